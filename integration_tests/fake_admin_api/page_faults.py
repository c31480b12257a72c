"""Answers no documentation allows, made from a correct one: what a broken server or proxy might send.

Each fault takes the body the stand-in would have sent (and the query it answered) and returns the body sent
instead. `repeat-page-token` also changes the query the stand-in answers: the page token is dropped, as a proxy
that strips `page`/`after_id` (or a server stuck on one page) would, and the answer names the dropped token as
the next page again, so a client that follows it asks for the same page forever.
"""

import base64
import re
from datetime import date, datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Tuple

import orjson

# The query parameter that sends a page token back, and the body field that names it.
PAGE_TOKENS = (("page", "next_page"), ("after_id", "last_id"))
BUCKET_SHAPES = ("no-results", "null-results", "results-not-list", "no-starting-at")
# A token for a first page that says there is more when there is none; the fault ignores tokens anyway.
STUCK_TOKEN = "page_" + base64.urlsafe_b64encode(b"stuck").decode()
_STRING_AMOUNT = re.compile(rb'"amount":"(-?[0-9]+(?:\.[0-9]+)?)"')

Query = Dict[str, List[str]]


def without_page_token(query: Query) -> Tuple[Query, Optional[str]]:
    """The query as a proxy that drops the page token passes it on, and the token it dropped."""
    for parameter, _ in PAGE_TOKENS:
        if parameter in query:
            return {name: values for name, values in query.items() if name != parameter}, query[parameter][0]
    return query, None


def repeat_page_token(body: Dict[str, Any], dropped_token: Optional[str]) -> Dict[str, Any]:
    for _, field in PAGE_TOKENS:
        if field in body:
            body[field] = dropped_token or body.get(field) or STUCK_TOKEN
    body["has_more"] = True
    return body


def bad_bucket(body: Dict[str, Any], shape: str) -> Dict[str, Any]:
    buckets = body["data"]
    bucket = next((b for b in buckets if b["results"]), buckets[0] if buckets else None)
    if bucket is None:
        return body
    if shape == "no-results":
        del bucket["results"]
    elif shape == "null-results":
        bucket["results"] = None
    elif shape == "results-not-list":
        bucket["results"] = {"rows": bucket["results"]}
    elif shape == "no-starting-at":
        del bucket["starting_at"]
    return body


def outside_window(body: Dict[str, Any], query: Query) -> Dict[str, Any]:
    """Adds a copy of the page's first bucket (or record), moved to the day before the one asked for."""
    if not body["data"]:
        return body
    first = orjson.loads(orjson.dumps(body["data"][0]))
    asked = query["starting_at"][0]
    if "results" in first:  # a report bucket
        start = datetime.fromisoformat(asked.replace("Z", "+00:00")) - timedelta(days=1)
        first["starting_at"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        first["ending_at"] = (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if not first["results"]:
            first["results"] = [row for bucket in body["data"] for row in bucket["results"]][:1]
        body["data"].insert(0, first)
    else:  # a Claude Code record
        first["date"] = f"{date.fromisoformat(asked) - timedelta(days=1)}T00:00:00Z"
        body["data"].append(first)
    return body


def null_date(body: Dict[str, Any]) -> Dict[str, Any]:
    for record in body["data"]:
        record["date"] = None
    return body


def bad_row(body: Dict[str, Any]) -> Dict[str, Any]:
    for item in body["data"]:
        rows = item.get("results")
        if rows:
            rows[0] = "unreadable"
            return body
    if body["data"] and "results" not in body["data"][0]:
        body["data"][0] = "unreadable"
    return body


JSON_FAULTS: Dict[str, Callable[..., Dict[str, Any]]] = {
    "bad-bucket": lambda body, fault, query, dropped: bad_bucket(body, fault.shape),
    "outside-window": lambda body, fault, query, dropped: outside_window(body, query),
    "null-date": lambda body, fault, query, dropped: null_date(body),
    "bad-row": lambda body, fault, query, dropped: bad_row(body),
    "repeat-page-token": lambda body, fault, query, dropped: repeat_page_token(body, dropped),
}


def apply(fault: Any, body: bytes, query: Query, dropped_token: Optional[str]) -> bytes:
    """The body a page fault sends instead of `body`."""
    if fault.kind == "numeric-amount":
        # On the bytes, so each number keeps every digit of the string it replaces.
        return _STRING_AMOUNT.sub(rb'"amount":\1', body)
    return orjson.dumps(JSON_FAULTS[fault.kind](orjson.loads(body), fault, query, dropped_token))


PAGE_FAULT_KINDS = ("numeric-amount", *JSON_FAULTS)
