"""The stand-in's `GET /v1/organizations/analytics/usage` and `/analytics/cost` (beta): parameters, range rules,
pages and expired cursors.

Documented (✅, `shared/reference/analytics-api.md`) and enforced here: the `anthropic-beta` header, a required
RFC 3339 tz-aware `starting_at` no earlier than 2026-01-01T00:00:00Z and within the last 365 days, an exclusive
`ending_at` that defaults to the earlier of now and `starting_at` plus 31 days, rows for whole hours without a time
bucket, bracketed array parameters, the documented `group_by[]` values, and amounts as decimal text in fractional
cents. What is not documented is decided in analytics_unknowns.py; where nothing is known, the stand-in is strict:
- with `time_bucket_width`, `starting_at` and `ending_at` must sit on a bucket boundary, and without `ending_at`
  only the whole buckets before it are served;
- `ending_at` in the future, a range longer than 31 days, a repeated `group_by[]` value and `order_by` (whose values
  are not documented) are refused;
- a page cursor is bound to its query, and expires (410) once the data it was cut from changes: a restated day, or
  a new `data_refreshed_at`.
"""

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import orjson

from . import analytics_unknowns as unknown
from . import page_tokens, parameters
from .analytics import COST_DIMENSIONS, FILTERS, USAGE_DIMENSIONS, cost_facts, rows, usage_facts
from .errors import ApiError
from .organization import Organization
from .reports import parse_rfc3339

USAGE_ANALYTICS_PATH = "/v1/organizations/analytics/usage"
COST_ANALYTICS_PATH = "/v1/organizations/analytics/cost"
ANALYTICS_PATHS = (USAGE_ANALYTICS_PATH, COST_ANALYTICS_PATH)
ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
EARLIEST = datetime(2026, 1, 1, tzinfo=timezone.utc)
HISTORY = timedelta(days=365)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MAX_FILTER_VALUES = 100  # ✅ for actor_ids[], 🟡 for the other filters
SCALARS = {"starting_at", "ending_at", "time_bucket_width", "limit", "page", "order", "order_by",
           "exclude_deleted_users"}


def refreshed_every_few_hours(now: datetime) -> datetime:
    """The default data_refreshed_at: the last refresh, on the refresh grid (🟡 every 4 hours)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(hours=(now.hour // unknown.REFRESH_HOURS) * unknown.REFRESH_HOURS)


class AnalyticsApi:
    """Answers the two analytics endpoints from one organization; caches whole answers by query and data version."""

    def __init__(self, organization: Organization, clock: Callable[[], datetime]) -> None:
        self.organization = organization
        self.clock = clock
        # A fixed data_refreshed_at (usage after it is not served yet), or None for the refresh grid of the clock.
        self.data_refreshed_at: Optional[datetime] = None
        # A page cap below `limit`, so that tests see clients follow next_page ("limit sets only the page size").
        self.max_rows_per_page: Optional[int] = None
        self._answers: Dict[Tuple[Any, ...], List[Dict[str, Any]]] = {}

    def respond(self, path: str, query: Dict[str, List[str]], headers: Mapping[str, str]) -> bytes:
        betas = [beta.strip() for beta in headers.get("anthropic-beta", "").split(",")]
        if ANALYTICS_BETA not in betas:
            raise ApiError(unknown.MISSING_BETA_STATUS, "invalid_request_error",
                           f"anthropic-beta: this endpoint is in beta and requires the {ANALYTICS_BETA} beta header")
        kind = "usage" if path == USAGE_ANALYTICS_PATH else "cost"
        parameters.check_names(query, SCALARS | {"group_by[]", *FILTERS})
        single = {name: values[0] for name, values in query.items() if name in SCALARS}
        now = self.clock()
        start, end, bucket = self._range(single, now)
        group_by = self._group_by(kind, query.get("group_by[]", []))
        filters = self._filters(query)
        if "order_by" in single:
            raise ApiError(400, "invalid_request_error", "order_by: this stand-in knows no documented values")
        order = single.get("order", "asc")
        if order not in ("asc", "desc"):
            raise ApiError(400, "invalid_request_error", "order: Input should be 'asc' or 'desc'")
        if single.get("exclude_deleted_users", "false") not in ("true", "false"):
            raise ApiError(400, "invalid_request_error", "exclude_deleted_users: Input should be a valid boolean")
        limit = parameters.limit(query, unknown.LIMIT_DEFAULT, unknown.LIMIT_MAX)
        refreshed_at = self.data_refreshed_at or refreshed_every_few_hours(now)

        fingerprint = page_tokens.fingerprint(path, sorted((k, v) for k, v in query.items() if k != "page"))
        version = [self.organization.version, refreshed_at.isoformat()]
        offset = 0
        if "page" in single:
            token = page_tokens.decode(single["page"], fingerprint)
            if token.get("version") != version:
                raise ApiError(unknown.EXPIRED_CURSOR_STATUS, unknown.EXPIRED_CURSOR_TYPE,
                               unknown.EXPIRED_CURSOR_MESSAGE)
            offset = token.get("offset")
            if not isinstance(offset, int) or offset < 0:
                raise ApiError(400, "invalid_request_error", "Invalid page token")

        answer = self._answer(kind, start, end, refreshed_at, bucket, group_by, filters, order, version,
                              fingerprint)
        size = min(limit, self.max_rows_per_page or limit)
        page = answer[offset:offset + size]
        more = offset + size < len(answer)
        return orjson.dumps({
            unknown.DATA: page,
            unknown.HAS_MORE: more,
            unknown.NEXT_PAGE: page_tokens.encode({"offset": offset + size, "version": version}, fingerprint)
            if more else None,
            unknown.DATA_REFRESHED_AT: refreshed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        })

    def _range(self, single: Mapping[str, str], now: datetime) -> Tuple[datetime, datetime, Optional[timedelta]]:
        start = _moment(single, "starting_at")
        if start is None:
            raise ApiError(400, "invalid_request_error", "starting_at: Field required")
        if start < EARLIEST:
            raise ApiError(400, "invalid_request_error",
                           "starting_at: must be no earlier than 2026-01-01T00:00:00Z")
        if start < now - HISTORY:
            raise ApiError(400, "invalid_request_error", "starting_at: must be within the last 365 days")
        width = single.get("time_bucket_width")
        if width is not None and width not in unknown.TIME_BUCKET_WIDTHS:
            raise ApiError(400, "invalid_request_error",
                           f"time_bucket_width: this stand-in serves only {', '.join(unknown.TIME_BUCKET_WIDTHS)}")
        bucket = DAY if width == "1d" else None
        end = _moment(single, "ending_at")
        if end is not None:
            if end <= start:
                raise ApiError(400, "invalid_request_error", "ending_at: must be after starting_at")
            if end > now + timedelta(seconds=1):
                raise ApiError(400, "invalid_request_error", "ending_at: must not be in the future")
        else:
            end = min(now, start + timedelta(days=31))
        if end - start > timedelta(days=unknown.MAX_RANGE_DAYS):
            raise ApiError(400, "invalid_request_error",
                           f"The range may span at most {unknown.MAX_RANGE_DAYS} days")
        if bucket is not None:
            if not _on_grid(start, bucket) or ("ending_at" in single and not _on_grid(end, bucket)):
                raise ApiError(400, "invalid_request_error",
                               "starting_at and ending_at must be on time bucket boundaries")
            end = start + ((end - start) // bucket) * bucket  # only whole buckets
        else:
            end = end.replace(minute=0, second=0, microsecond=0)  # documented: whole hours without a time bucket
        return start, end, bucket

    @staticmethod
    def _group_by(kind: str, group_by: List[str]) -> List[str]:
        allowed = COST_DIMENSIONS if kind == "cost" else USAGE_DIMENSIONS
        for value in group_by:
            if value not in allowed:
                raise ApiError(400, "invalid_request_error",
                               f"group_by[]: Input should be {', '.join(repr(v) for v in allowed)}")
        if len(set(group_by)) != len(group_by):
            raise ApiError(400, "invalid_request_error", "group_by[]: values must be unique")
        if unknown.MAX_GROUP_BY is not None and len(group_by) > unknown.MAX_GROUP_BY:
            raise ApiError(400, "invalid_request_error",
                           f"Cannot specify more than {unknown.MAX_GROUP_BY} group_by[] dimensions.")
        if "claude_tag_user_id" in group_by and "rbac_group_id" in group_by:  # 🟡 Enterprise text
            raise ApiError(400, "invalid_request_error",
                           "group_by[]=claude_tag_user_id cannot be combined with group_by[]=rbac_group_id")
        return group_by

    @staticmethod
    def _filters(query: Mapping[str, List[str]]) -> Dict[str, set]:
        filters = {}
        for name, dimension in FILTERS.items():
            if name in query:
                if len(query[name]) > MAX_FILTER_VALUES:
                    raise ApiError(400, "invalid_request_error",
                                   f"{name}: List should have at most {MAX_FILTER_VALUES} items")
                filters[dimension] = set(query[name])
        return filters

    def _answer(self, kind: str, start: datetime, end: datetime, refreshed_at: datetime,
                bucket: Optional[timedelta], group_by: List[str], filters: Dict[str, set], order: str,
                version: List[Any], fingerprint: str) -> List[Dict[str, Any]]:
        key = (fingerprint, *version, end)
        answer = self._answers.get(key)
        if answer is None:
            facts_of = cost_facts if kind == "cost" else usage_facts
            facts = []
            day = start.date()
            while day < end.date() or (day == end.date() and end.time() != datetime.min.time()):
                facts += facts_of(self.organization, day)
                day += DAY
            # Usage after the last refresh is not there yet: a bucket it falls in comes back partial.
            answer = rows(facts, kind, start, end, bucket, group_by, filters, served_until=refreshed_at)
            if order == "desc" and bucket:
                answer.sort(key=lambda row: row["starting_at"], reverse=True)
            if len(self._answers) > 16:
                self._answers.clear()
            self._answers[key] = answer
        return answer


def _moment(single: Mapping[str, str], name: str) -> Optional[datetime]:
    value = single.get(name)
    if value is None:
        return None
    parsed = parse_rfc3339(value)
    if parsed is None:
        raise ApiError(400, "invalid_request_error", f"{name}: Input should be an RFC 3339 date-time with a time zone")
    return parsed.astimezone(timezone.utc)


def _on_grid(moment: datetime, width: timedelta) -> bool:
    return not (moment - datetime(2000, 1, 1, tzinfo=timezone.utc)) % width
