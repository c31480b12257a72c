"""The organization's request rate limit, as the real report endpoints answer it (reference §7.5.8). Off by default.

Configured as N requests per W seconds (`FakeAdminApi(..., rate_limit=(2, 70.0))`, `--rate-limit 2/70`), it is
shared by every key of the organization and applies to every request to a /v1/ path that carries a valid Admin
key, whatever its outcome afterwards (a request refused for a bad parameter counts too). Requests refused for
their key, and requests answered by an injected status or bad-page-token fault, never reach the limiter.

Window model: a fixed window. The first request after the previous window ended opens a window; it ends at
window start + W, rounded *up* to the whole second, because that end is announced in whole seconds. Up to N
requests are served in a window. Every further request in the same window is answered

    HTTP 429 {"type": "error", "error": {"type": "rate_limit_error", ...}}
    anthropic-ratelimit-requests-limit: N
    anthropic-ratelimit-requests-remaining: 0
    anthropic-ratelimit-requests-reset: 2026-11-25T12:00:34Z   (the window's end: RFC 3339, UTC, whole seconds)
    x-should-retry: true

and, as recorded, no `retry-after`. A refused request neither extends the window nor opens the next one, so a
client that waits until the announced reset and then sends one request is served (unless another client of the
same organization spent the new window first, as on the real API). Stricter than the recordings: successful
responses carry no rate-limit headers at all (the recordings show them only on 429s), so a client cannot pace
itself on `-remaining` and must handle the 429. Time is the stand-in's clock (UTC wall time), the same clock a
client compares the announced reset with.
"""

import threading
from datetime import datetime, timedelta
from typing import Callable, Dict, Optional, Tuple

from .errors import ApiError

LIMIT_HEADER = "anthropic-ratelimit-requests-limit"
REMAINING_HEADER = "anthropic-ratelimit-requests-remaining"
RESET_HEADER = "anthropic-ratelimit-requests-reset"


def parse_rate_limit(text: str) -> Tuple[int, float]:
    """`N/W` (N requests per W seconds, e.g. `2/70` or `2/1.5`) -> (N, W)."""
    try:
        requests, seconds = text.split("/")
        limit = (int(requests), float(seconds))
    except ValueError:
        raise ValueError(f"Bad rate limit {text!r}: expected REQUESTS/SECONDS, e.g. 2/70") from None
    check_rate_limit(limit)
    return limit


def check_rate_limit(limit: Tuple[int, float]) -> None:
    if limit[0] < 1 or not limit[1] > 0:
        raise ValueError(f"Bad rate limit {limit!r}: at least 1 request per a positive number of seconds")


def whole_second_after(moment: datetime) -> datetime:
    """The moment itself if it falls on a whole second, else the next whole second."""
    floor = moment.replace(microsecond=0)
    return floor if floor == moment else floor + timedelta(seconds=1)


def rate_limit_headers(limit: int, reset_at: datetime) -> Dict[str, str]:
    return {LIMIT_HEADER: str(limit), REMAINING_HEADER: "0", RESET_HEADER: reset_at.strftime("%Y-%m-%dT%H:%M:%SZ")}


class RateLimiter:
    """N requests per fixed window of W seconds (see the module docstring); `admit` raises the 429."""

    def __init__(self, limit: Tuple[int, float], clock: Callable[[], datetime]) -> None:
        check_rate_limit(limit)
        self.requests, self.seconds = limit
        self.clock = clock
        self._lock = threading.Lock()
        self._reset_at: Optional[datetime] = None
        self._served = 0

    def admit(self) -> None:
        now = self.clock()
        with self._lock:
            if self._reset_at is None or now >= self._reset_at:
                self._reset_at = whole_second_after(now + timedelta(seconds=self.seconds))
                self._served = 0
            if self._served < self.requests:
                self._served += 1
                return
            reset_at = self._reset_at
        raise ApiError(429, "rate_limit_error",
                       f"This request would exceed your organization's rate limit of {self.requests} requests per "
                       f"{self.seconds:g} seconds. The limit resets at {reset_at:%Y-%m-%dT%H:%M:%SZ}.",
                       headers=rate_limit_headers(self.requests, reset_at))
