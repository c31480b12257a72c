"""Opaque page tokens bound to the query that produced them (stricter than the docs: reused with other
parameters, a token is refused)."""

import base64
import hashlib
from typing import Any, Dict

import orjson

from .errors import ApiError


def fingerprint(*query: Any) -> str:
    return hashlib.sha256(orjson.dumps(query)).hexdigest()[:16]


def encode(payload: Dict[str, Any], query_fingerprint: str) -> str:
    return "page_" + base64.urlsafe_b64encode(orjson.dumps({**payload, "query": query_fingerprint})).decode()


def decode(token: str, query_fingerprint: str) -> Dict[str, Any]:
    """The token's payload; a 400 for anything not issued for this very query."""
    try:
        if not token.startswith("page_"):
            raise ValueError
        payload = orjson.loads(base64.urlsafe_b64decode(token.removeprefix("page_").encode()))
        if not isinstance(payload, dict) or payload.pop("query", None) != query_fingerprint:
            raise ValueError
        return payload
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ApiError(400, "invalid_request_error", "Invalid page token") from None
