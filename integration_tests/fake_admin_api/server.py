"""The stand-in's HTTP side: authentication, parameter validation, pagination, errors and faults.

Behaviour follows `shared/reference/anthropic-admin-api.md`. Where the documentation is silent the
stand-in is stricter than the real API is known to be, and says so where it decides:
- unknown query parameters, repeated scalar parameters and unbracketed arrays are rejected (400);
- usage report: `starting_at` must sit on a bucket boundary (the docs say it is "snapped", not which way), and
  `ending_at` too (day, hour or minute, as `bucket_width`), else the cost report's recorded 400 (below);
- cost report, as recorded (§7.5.6): `starting_at` and `ending_at` must be at 00:00:00Z and at least one whole day
  must lie between `starting_at` and the end (`ending_at`, or without it the start of the current UTC day), else
  400 invalid_request_error "Invalid date range: ending date must be after starting date";
- `ending_at` more than one second in the future is rejected (the docs do not say it is accepted);
- a page token is bound to the query that produced it;
- an unknown `anthropic-version` is rejected.

The Usage and Cost Analytics API (`/v1/organizations/analytics/usage` and `/cost`, beta) is answered by
analytics_endpoints.py; the Claude Enterprise engagement endpoints (`/v1/organizations/analytics/users`, `summaries`,
`apps/chat/projects`, `skills`, `connectors`, `plugins`, `artifacts`) by engagement_endpoints.py, from the day-by-day
model in engagement.py; the Rate Limits API by limits_endpoints.py, from limits.py. An Analytics API key (Claude
Enterprise) reads only those nine endpoints; an Admin key reads everything else, and is refused (403) on the
engagement endpoints.

Every error response carries `x-should-retry` (true for 408, 409, 429 and 5xx, false for other 4xx), as the real
API does. An optional per-organization rate limit answers 429s as recorded: see rate_limit.py. Older days lack
dimension keys that newer days carry (before `Organization.keys_appear_on`): see reports.py.
"""

import socket
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

import orjson

from . import analytics_unknowns
from .analytics_endpoints import ANALYTICS_PATHS, AnalyticsApi
from . import engagement_endpoints
from .engagement import Engagement
from .directory import Directory
from .directory_endpoints import directory_response
from . import page_faults, page_tokens, parameters
from .errors import ApiError, should_retry
from .faults import FaultPlan
from .limits import Limits
from .limits_endpoints import limits_response
from .organization import Organization
from .rate_limit import RESET_HEADER, RateLimiter
from .reports import BUCKET_WIDTHS, USAGE_DIMENSIONS, USAGE_FILTERS, cost_bucket, parse_rfc3339, usage_bucket

USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
ANTHROPIC_VERSIONS = ("2023-06-01",)
FAST_MODE_BETA = "fast-mode-2026-02-01"
# Documented `limit` per bucket width: (default, maximum).
USAGE_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}
COST_LIMITS = {"1d": (7, 31)}
MAX_GROUP_BY = 5
# The cost report's recorded answer to a range that is not whole UTC days (§7.5.6), reused for unaligned usage ends.
INVALID_DATE_RANGE = "Invalid date range: ending date must be after starting date"
DAY = timedelta(days=1)
DEFAULT_ADMIN_KEY = "sk-ant-admin01-local-stand-in-key"
# A Claude Enterprise organization's key with read:analytics: documented as sk-ant-api01-..., the prefix regular API
# keys share; it reads only the Usage and Cost Analytics API ("an Analytics API key cannot call the Admin API").
DEFAULT_ANALYTICS_KEY = "sk-ant-api01-local-stand-in-analytics-key"


@dataclass
class LoggedRequest:
    ordinal: int
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    status: int = 0
    fault: Optional[str] = None
    at: float = 0.0  # time.monotonic() when the request arrived: measures waits and wall time
    received_at: Optional[datetime] = None  # the stand-in's clock when the request arrived
    reset_at: Optional[datetime] = None  # on a 429, the announced anthropic-ratelimit-requests-reset


@dataclass
class Endpoint:
    limits: Dict[str, Tuple[int, int]]
    group_by: Sequence[str]
    filters: Dict[str, str]
    bucket: Callable[..., Dict[str, Any]]
    whole_days: bool = False  # the cost report's range rules


class FakeAdminApi:
    """The local Admin API: `with FakeAdminApi(Organization()) as api: ... api.url ... api.requests`."""

    def __init__(
        self,
        organization: Organization,
        admin_keys: Sequence[str] = (DEFAULT_ADMIN_KEY,),
        analytics_keys: Sequence[str] = (DEFAULT_ANALYTICS_KEY,),
        faults: Optional[FaultPlan] = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        max_buckets_per_page: Optional[int] = None,
        unavailable: Optional[Dict[str, int]] = None,
        rate_limit: Optional[Tuple[int, float]] = None,
        refuse_archived_members: bool = False,
        latency: float = 0.0,
    ) -> None:
        self.organization = organization
        self.directory = Directory(organization)
        self.limits = Limits(self.directory)
        # Path prefix -> 403 or 404: endpoints this key may not read (an org without Claude Code, a narrower key).
        self.unavailable = dict(unavailable or {})
        # Answer 400 for an archived workspace's members, as the API does for its service accounts (documented).
        self.refuse_archived_members = refuse_archived_members
        # The docs say a page holds *at most* `limit` buckets: a cap below it makes clients follow next_page.
        self.max_buckets_per_page = max_buckets_per_page
        self.admin_keys = set(admin_keys)
        self.analytics_keys = set(analytics_keys)
        self.analytics = AnalyticsApi(organization, clock)
        self.engagement = Engagement(organization, lambda: self.clock())
        self.faults = faults or FaultPlan()
        self.clock = clock
        self.rate_limit = rate_limit  # (N requests, per W seconds) for the whole organization, or None
        # Seconds every answer waits before it is sent, as a real API's round trip and work: the time a client can
        # spend on the records it already has (bench/run.py's latency section).
        self.latency = latency
        self.requests: List[LoggedRequest] = []
        self._lock = threading.Lock()
        self._cache: "OrderedDict[Tuple[Any, ...], bytes]" = OrderedDict()
        self._endpoints = {
            USAGE_PATH: Endpoint(USAGE_LIMITS, USAGE_DIMENSIONS + ("speed",), USAGE_FILTERS, self._usage_bucket),
            COST_PATH: Endpoint(COST_LIMITS, ("workspace_id", "description"), {}, self._cost_bucket, whole_days=True),
        }
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    @property
    def rate_limit(self) -> Optional[Tuple[int, float]]:
        return self._rate_limit

    @rate_limit.setter
    def rate_limit(self, limit: Optional[Tuple[int, float]]) -> None:
        """Set, change or (None) lift the limit; a new limit starts with a fresh window."""
        self._rate_limiter = None if limit is None else RateLimiter(limit, self.clock)
        self._rate_limit = limit

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeAdminApi":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-admin-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeAdminApi":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def api_requests(self, path: Optional[str] = None) -> List[LoggedRequest]:
        """Requests to the Admin API's paths (not the check's reachability probe of /), optionally one path."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith("/v1/") and (path is None or r.path == path)]

    def elapsed(self, path: Optional[str] = None) -> float:
        """Seconds from the first to the last logged Admin API request (0 for fewer than two)."""
        times = [r.at for r in self.api_requests(path)]
        return max(times) - min(times) if len(times) > 1 else 0.0

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- request handling -----------------------------------------------------------------------------

    def log(self, method: str, target: str, headers: Dict[str, str]) -> LoggedRequest:
        parts = urlsplit(target)
        shown_headers = {name: value for name, value in headers.items() if name != "x-api-key"}
        shown_headers["x-api-key-kind"] = _key_kind(headers.get("x-api-key"), self.admin_keys, self.analytics_keys)
        with self._lock:
            entry = LoggedRequest(len(self.requests) + 1, method, parts.path,
                                  parse_qs(parts.query, keep_blank_values=True), shown_headers,
                                  at=time.monotonic(), received_at=self.clock())
            self.requests.append(entry)
        return entry

    def respond(self, entry: LoggedRequest, api_key: Optional[str]) -> Tuple[int, Dict[str, str], bytes]:
        """The status, headers and body for a request (before any body-level fault)."""
        if entry.method != "GET":
            raise ApiError(405, "invalid_request_error", f"Method {entry.method} is not allowed on {entry.path}")
        self._authenticate(api_key, entry.path)
        limiter = self._rate_limiter
        if limiter is not None and entry.path.startswith("/v1/"):
            limiter.admit()
        version = entry.headers.get("anthropic-version")
        if version is None:
            raise ApiError(400, "invalid_request_error", "anthropic-version: header is required")
        if version not in ANTHROPIC_VERSIONS:  # stricter: the docs list only 2023-06-01
            raise ApiError(400, "invalid_request_error", f"anthropic-version: unknown version {version!r}")
        for prefix, status in self.unavailable.items():
            if entry.path.startswith(prefix):
                raise ApiError(status, "permission_error" if status == 403 else "not_found_error",
                               f"This organization or key cannot access {entry.path}")
        if entry.path in ANALYTICS_PATHS:
            return 200, {}, self.analytics.respond(entry.path, entry.query, entry.headers)
        if entry.path in engagement_endpoints.ENGAGEMENT_PATHS:
            return 200, {}, engagement_endpoints.engagement_response(self.engagement, entry.path, entry.query)
        endpoint = self._endpoints.get(entry.path)
        if endpoint is not None:
            return 200, {}, self._report(endpoint, entry)
        body = limits_response(self.limits, entry.path, entry.query)
        if body is None:
            body = directory_response(self.directory, entry.path, entry.query, self.clock().date(),
                                      refuse_archived_members=self.refuse_archived_members)
        if body is None:
            raise ApiError(404, "not_found_error", f"Not found: {entry.path}")
        return 200, {}, body

    def _authenticate(self, api_key: Optional[str], path: str) -> None:
        if not api_key:
            raise ApiError(401, "authentication_error", "x-api-key header is required")
        if path in engagement_endpoints.ENGAGEMENT_PATHS:
            return engagement_endpoints.authenticate(api_key, self.admin_keys, self.analytics_keys)
        if api_key in self.admin_keys:
            return
        if api_key in self.analytics_keys:
            if path in ANALYTICS_PATHS:
                return
            raise ApiError(analytics_unknowns.WRONG_KEY_KIND_STATUS, "permission_error",
                           "This endpoint requires an Admin API key (sk-ant-admin...); an Analytics API key reads only "
                           "the Usage and Cost Analytics API.")
        if api_key.startswith("sk-ant-api"):
            raise ApiError(403, "permission_error",
                           "This endpoint requires an Admin API key (sk-ant-admin...); workspace API keys are not allowed.")
        raise ApiError(401, "authentication_error", "invalid x-api-key")

    def _report(self, endpoint: Endpoint, entry: LoggedRequest) -> bytes:
        query = entry.query
        parameters.check_names(query, {"starting_at", "ending_at", "bucket_width", "limit", "page", "group_by[]",
                                       *endpoint.filters})
        single = {name: values[0] for name, values in query.items() if not name.endswith("[]")}

        width_name = single.get("bucket_width", "1d")
        if width_name not in endpoint.limits:
            raise ApiError(400, "invalid_request_error",
                           f"bucket_width: Input should be {' or '.join(repr(w) for w in endpoint.limits)}")
        width = BUCKET_WIDTHS[width_name]
        limit = parameters.limit(query, *endpoint.limits[width_name], context=f" for bucket_width {width_name}")

        starting_at = _time_param(single, "starting_at", required=True)
        ending_at = _time_param(single, "ending_at", required=False)
        now = self.clock()
        if endpoint.whole_days:
            # As recorded: without ending_at the cost report ends at the start of the current UTC day.
            horizon = ending_at or datetime.combine(now.date(), datetime.min.time(), timezone.utc)
            if not _aligned(starting_at, DAY) or not _aligned(horizon, DAY) or horizon <= starting_at:
                raise ApiError(400, "invalid_request_error", INVALID_DATE_RANGE)
        else:
            if not _aligned(starting_at, width):
                raise ApiError(400, "invalid_request_error",  # stricter: the docs do not say how it is snapped
                               f"starting_at must be aligned to the start of a {width_name} bucket")
            if ending_at is not None and ending_at <= starting_at:
                raise ApiError(400, "invalid_request_error", "ending_at must be after starting_at")
            if ending_at is not None and not _aligned(ending_at, width):
                # Stricter: only the cost report is recorded refusing an end off the bucket grid.
                raise ApiError(400, "invalid_request_error", INVALID_DATE_RANGE)
            horizon = ending_at or now
        if ending_at is not None and ending_at > now + timedelta(seconds=1):
            raise ApiError(400, "invalid_request_error", "ending_at must not be in the future")

        group_by = query.get("group_by[]", [])
        self._validate_group_by(endpoint, group_by, entry.headers)
        filters = {dimension: set(query[name]) for name, dimension in endpoint.filters.items() if name in query}

        fingerprint = page_tokens.fingerprint(entry.path, sorted((k, v) for k, v in query.items() if k != "page"))
        first = starting_at
        if "page" in single:
            first = _decode_page(single["page"], fingerprint)
            if first < starting_at:
                raise ApiError(400, "invalid_request_error", "Invalid page token")
        if self.max_buckets_per_page:
            limit = min(limit, self.max_buckets_per_page)
        bucket_starts = []
        start = first
        while start + width <= horizon and len(bucket_starts) <= limit:
            bucket_starts.append(start)
            start += width
        page, more = bucket_starts[:limit], len(bucket_starts) > limit

        cache_key = (entry.path, tuple(sorted((k, tuple(v)) for k, v in query.items())), self.organization.version,
                     tuple(page), more)
        with self._lock:
            cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        body = orjson.dumps({
            "data": [endpoint.bucket(start, width, group_by, filters) for start in page],
            "has_more": more,
            "next_page": page_tokens.encode({"next": f"{page[-1] + width:%Y-%m-%dT%H:%M:%SZ}"}, fingerprint)
            if more else None,
        })
        with self._lock:
            self._cache[cache_key] = body
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return body

    def _validate_group_by(self, endpoint: Endpoint, group_by: List[str], headers: Dict[str, str]) -> None:
        if not all(group_by):
            raise ApiError(400, "invalid_request_error", "group_by[]: values must not be empty")
        for value in group_by:
            if value not in endpoint.group_by:
                raise ApiError(400, "invalid_request_error",
                               f"group_by[]: Input should be {', '.join(repr(v) for v in endpoint.group_by)}")
        if len(set(group_by)) != len(group_by):  # stricter: duplicates are not documented
            raise ApiError(400, "invalid_request_error", "group_by[]: values must be unique")
        if len(group_by) > MAX_GROUP_BY:
            raise ApiError(400, "invalid_request_error", "Cannot specify more than 5 group_by[] dimensions.")
        if "speed" in group_by and FAST_MODE_BETA not in headers.get("anthropic-beta", ""):
            raise ApiError(400, "invalid_request_error", f"group_by[]: 'speed' requires the {FAST_MODE_BETA} beta")

    def _usage_bucket(self, start: datetime, width: timedelta, group_by: List[str], filters: Dict[str, set]) -> Dict:
        return usage_bucket(self.organization, start, width, [d for d in group_by if d != "speed"], filters)

    def _cost_bucket(self, start: datetime, width: timedelta, group_by: List[str], filters: Dict[str, set]) -> Dict:
        return cost_bucket(self.organization, start, group_by)


def _handler_for(api: FakeAdminApi) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def log_message(self, *_: Any) -> None:  # the request log replaces stderr chatter
            pass

        def _handle(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            entry = api.log(self.command, self.path, headers)
            fault = api.faults.fault_for(entry.ordinal, entry.path)
            entry.fault = None if fault is None else str(fault.status) if fault.kind == "status" else fault.kind
            if api.latency:
                time.sleep(api.latency)
            try:
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.seconds)
                if fault is not None and fault.kind == "status":
                    raise fault.error(api.clock(), api.rate_limit[0] if api.rate_limit else None)
                if fault is not None and fault.kind == "bad-page-token":
                    raise ApiError(400, "invalid_request_error", "Invalid page token")
                answered, dropped_token = entry, None
                if fault is not None and fault.kind == "repeat-page-token":
                    # The log keeps the query as sent; the stand-in answers it without its page token.
                    query, dropped_token = page_faults.without_page_token(entry.query)
                    answered = replace(entry, query=query)
                status, extra_headers, body = api.respond(answered, headers.get("x-api-key"))
                if fault is not None and fault.kind in page_faults.PAGE_FAULT_KINDS:
                    body = page_faults.apply(fault, body, entry.query, dropped_token)
            except ApiError as error:
                self._send_error(entry, error)
                return
            if fault is not None and fault.kind == "drop":
                self._send(entry, status, body, declared_length=len(body), cut=len(body) // 2)
            elif fault is not None and fault.kind == "truncate":
                self._send(entry, status, body[: len(body) // 2])
            else:
                self._send(entry, status, body)

        def _send_error(self, entry: LoggedRequest, error: ApiError) -> None:
            request_id = _request_id()
            body = orjson.dumps({"type": "error", "error": {"type": error.error_type, "message": error.message},
                                 "request_id": request_id})
            headers = {**error.headers, "x-should-retry": "true" if should_retry(error.status) else "false"}
            if RESET_HEADER in headers:
                entry.reset_at = parse_rfc3339(headers[RESET_HEADER])
            self._send(entry, error.status, body, headers=headers, request_id=request_id)

        def _send(self, entry: LoggedRequest, status: int, body: bytes, declared_length: Optional[int] = None,
                  cut: Optional[int] = None, headers: Optional[Dict[str, str]] = None,
                  request_id: Optional[str] = None) -> None:
            entry.status = status
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(declared_length if declared_length is not None else len(body)))
            self.send_header("request-id", request_id or _request_id())
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body if cut is None else body[:cut])
                self.wfile.flush()
                if cut is not None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                self.close_connection = True

    return Handler


def _key_kind(api_key: Optional[str], admin_keys: set, analytics_keys: set) -> str:
    if not api_key:
        return "missing"
    if api_key in admin_keys:
        return "admin"
    if api_key in analytics_keys:
        return "analytics"
    return "regular" if api_key.startswith("sk-ant-api") else "unknown"


def _aligned(moment: datetime, width: timedelta) -> bool:
    return not (moment - datetime(2000, 1, 1, tzinfo=timezone.utc)) % width


def _time_param(single: Dict[str, str], name: str, required: bool) -> Optional[datetime]:
    value = single.get(name)
    if value is None:
        if required:
            raise ApiError(400, "invalid_request_error", f"{name}: Field required")
        return None
    parsed = parse_rfc3339(value)
    if parsed is None:
        raise ApiError(400, "invalid_request_error", f"{name}: Input should be a valid RFC 3339 datetime")
    return parsed.astimezone(timezone.utc)


def _decode_page(token: str, query_fingerprint: str) -> datetime:
    start = parse_rfc3339(str(page_tokens.decode(token, query_fingerprint).get("next")))
    if start is None:
        raise ApiError(400, "invalid_request_error", "Invalid page token")
    return start


def _request_id() -> str:
    return "req_" + uuid.uuid4().hex[:24]
