"""Faults the stand-in can inject, chosen by the ordinal of the request they hit.

A fault spec string, as the command line takes it, is `KIND[:OPTION=VALUE,...]@ORDINALS`, where
ORDINALS is a comma-separated list of request numbers or ranges (`3`, `5-7`, `9-` for "from 9 on"):

    429@4                      a 429 on the 4th request, as the real one looks (below)
    429:reset=2@3              a 429 whose limit resets 2 s after the response (default: 1 s)
    429:retry-after=1@2        a 429 that also carries `retry-after: 1` (the recorded ones carry none)
    429:reset=none@2           a 429 without the ratelimit headers (as the spend-limit 429 of the docs)
    429:limit=5@2              a 429 announcing a limit of 5 requests (default: the stand-in's rate limit, or 50)
    503@5-6                    503 on requests 5 and 6 (500, 502, 504, 529 likewise)
    401@9-                     the key is revoked from request 9 on
    400@3                      a 400 invalid_request_error in the middle of a window
    slow:seconds=3@1           the 1st response starts after 3 s
    drop@2                     the connection closes half-way through the body
    truncate@2                 a complete HTTP 200 whose JSON body is cut in half
    bad-page-token@2           the page token of request 2 is rejected with a 400
    repeat-page-token@2-       from request 2 on the page token is ignored and every answer says there is more,
                               naming the token it was asked with again (a proxy that drops `page`/`after_id`)
    bad-bucket:shape=S@3       a report page whose first bucket with rows is not whole; S is no-results,
                               null-results, results-not-list or no-starting-at
    outside-window@3           a report page also carries the bucket of the day before `starting_at`; a Claude
                               Code page also carries a record of the day before the one asked for
    null-date@3                a Claude Code page whose records have `date: null`
    numeric-amount@3           a cost page whose amounts are JSON numbers (the same digits) instead of strings
    bad-row@3                  the first result row (or Claude Code record) is a string instead of an object

The last six are answers no documentation allows; they show what the connector does with a server or proxy
that sends them (see page_faults.py).

Any fault takes `path=TEXT` to hit only requests whose path contains TEXT. An injected error looks like the real
one: the API's error body, `x-should-retry` (true for 408, 409, 429 and 5xx, false for other 4xx), and on a 429
the three `anthropic-ratelimit-requests-*` headers with a reset the given seconds after the response, rounded up
to the whole second (see rate_limit.py). Injected faults sit in front of the rate limit: they are not counted.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional, Tuple

from .errors import ApiError
from .page_faults import BUCKET_SHAPES
from .rate_limit import rate_limit_headers, whole_second_after

STATUS_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
KINDS = ("status", "slow", "drop", "truncate", "bad-page-token", "repeat-page-token", "bad-bucket", "outside-window",
         "null-date", "numeric-amount", "bad-row")
# The limit an injected 429 announces when neither the spec nor the stand-in sets one (no number is published).
DEFAULT_FAULT_LIMIT = 50


@dataclass(frozen=True)
class Fault:
    kind: str
    ordinals: Tuple[Tuple[int, Optional[int]], ...]
    status: int = 0
    retry_after: Optional[str] = None
    seconds: float = 0.0
    path_contains: str = ""
    reset: Optional[float] = 1.0  # a 429's reset, in seconds after the response; None: no ratelimit headers
    limit: Optional[int] = None  # the limit a 429 announces
    shape: str = ""  # how a bad-bucket fault breaks the bucket

    def error(self, now: datetime, rate_limit: Optional[int] = None) -> ApiError:
        """The error a status fault answers, with the headers the real one carries."""
        headers: Dict[str, str] = {}
        if self.status == 429 and self.reset is not None:
            reset_at = whole_second_after(now + timedelta(seconds=self.reset))
            headers.update(rate_limit_headers(self.limit or rate_limit or DEFAULT_FAULT_LIMIT, reset_at))
        if self.retry_after is not None:
            headers["retry-after"] = self.retry_after
        return ApiError(self.status, self.error_type, f"Injected fault: HTTP {self.status}", headers)

    def applies_to(self, ordinal: int, path: str) -> bool:
        if self.path_contains and self.path_contains not in path:
            return False
        return any(low <= ordinal and (high is None or ordinal <= high) for low, high in self.ordinals)

    @property
    def error_type(self) -> str:
        return STATUS_ERROR_TYPES.get(self.status, "api_error")


@dataclass
class FaultPlan:
    faults: List[Fault] = field(default_factory=list)

    def fault_for(self, ordinal: int, path: str) -> Optional[Fault]:
        return next((fault for fault in self.faults if fault.applies_to(ordinal, path)), None)

    @classmethod
    def parse(cls, specs: Iterable[str]) -> "FaultPlan":
        return cls([parse_fault(spec) for spec in specs])


def status_fault(status: int, ordinals: str, retry_after: Optional[str] = None, path_contains: str = "",
                 reset: Optional[float] = 1.0, limit: Optional[int] = None) -> Fault:
    return Fault("status", _parse_ordinals(ordinals), status=status, retry_after=retry_after,
                 path_contains=path_contains, reset=reset, limit=limit)


def parse_fault(spec: str) -> Fault:
    try:
        head, ordinals = spec.rsplit("@", 1)
        kind, _, option_text = head.partition(":")
        options: Dict[str, str] = dict(
            option.split("=", 1) for option in option_text.split(",") if option
        )
        parsed_ordinals = _parse_ordinals(ordinals)
        path_contains = options.get("path", "")
        if kind.isdigit():
            return Fault("status", parsed_ordinals, status=int(kind), retry_after=options.get("retry-after"),
                         path_contains=path_contains,
                         reset=None if options.get("reset") == "none" else float(options.get("reset", 1)),
                         limit=int(options["limit"]) if "limit" in options else None)
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if kind == "bad-bucket" and options.get("shape") not in BUCKET_SHAPES:
            raise ValueError(f"shape must be one of {', '.join(BUCKET_SHAPES)}")
        return Fault(kind, parsed_ordinals, seconds=float(options.get("seconds", 0)), path_contains=path_contains,
                     shape=options.get("shape", ""))
    except ValueError as error:
        raise ValueError(f"Bad fault spec {spec!r} ({error}); see `integration_tests/fake_admin_api/faults.py`.") from None


def _parse_ordinals(text: str) -> Tuple[Tuple[int, Optional[int]], ...]:
    ranges = []
    for part in text.split(","):
        low, dash, high = part.partition("-")
        ranges.append((int(low), (int(high) if high else None) if dash else int(low)))
    return tuple(ranges)
