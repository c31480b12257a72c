"""The stand-in's Claude Enterprise engagement endpoints, `GET /v1/organizations/analytics/{users, summaries,
apps/chat/projects, skills, connectors, plugins, artifacts}`: keys, day selection, freshness and pages.

Documented (✅, `shared/reference/analytics-api.md` §9) and enforced here: an Analytics key reads them, an Admin key
does not; `date` (one UTC day) or `starting_date` with an exclusive `ending_date` at most 366 days later (range
mode: one row per entity over the whole range, not one per day); artifacts by `date` only; summaries one row per
day of `starting_date` .. `ending_date`, in one page; nothing before 2026-01-01; a too-recent day refused with an
error naming the latest available day; `limit` 1 to 1000 (default 100) and `page` = the previous `next_page`.
Where the docs are silent the stand-in is stricter (the lead's wire contract for issue 22):
- the envelope is `{data, next_page}` only, without `has_more`: a client pages on `next_page` alone;
- a page token is bound to its query; `filter[]`, `group_by[]` and any other parameter are refused, and so are
  `limit` and `page` on summaries (one page);
- range mode without `ending_date` runs through the latest available day; summaries without it cover one day;
- a range whose last day is too recent is refused as that day would be.
"""

from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple

import orjson

from . import page_tokens, parameters
from .engagement import ENDPOINTS, FLOOR, Engagement, sort_key
from .errors import ApiError

ENGAGEMENT_BASE = "/v1/organizations/analytics/"
ANALYTICS_USERS_PATH = ENGAGEMENT_BASE + "users"
ANALYTICS_SUMMARIES_PATH = ENGAGEMENT_BASE + "summaries"
ANALYTICS_CHAT_PROJECTS_PATH = ENGAGEMENT_BASE + "apps/chat/projects"
ANALYTICS_SKILLS_PATH = ENGAGEMENT_BASE + "skills"
ANALYTICS_CONNECTORS_PATH = ENGAGEMENT_BASE + "connectors"
ANALYTICS_PLUGINS_PATH = ENGAGEMENT_BASE + "plugins"
ANALYTICS_ARTIFACTS_PATH = ENGAGEMENT_BASE + "artifacts"
ENGAGEMENT_PATHS = tuple(ENGAGEMENT_BASE + name for name in ENDPOINTS)
LIMIT_DEFAULT, LIMIT_MAX = 100, 1000
MAX_RANGE_DAYS = 366
WRONG_KEY_MESSAGE = ("This endpoint requires an Analytics API key (read:analytics) of a Claude Enterprise "
                     "organization; an Admin API key cannot read Claude Enterprise analytics.")


def too_recent(day: date, latest: date) -> str:
    return f"Data for {day.isoformat()} is not available yet. The latest available date is {latest.isoformat()}."


def authenticate(api_key: str, admin_keys: Sequence[str], analytics_keys: Sequence[str]) -> None:
    """Only an Analytics key reads engagement: an Admin key (or a regular one) gets a 403, an unknown one a 401."""
    if api_key in analytics_keys:
        return
    if api_key in admin_keys or api_key.startswith("sk-ant-api"):
        raise ApiError(403, "permission_error", WRONG_KEY_MESSAGE)
    raise ApiError(401, "authentication_error", "invalid x-api-key")


def engagement_response(engagement: Engagement, path: str, query: Dict[str, List[str]]) -> bytes:
    name = path.removeprefix(ENGAGEMENT_BASE)
    if name == "summaries":
        parameters.check_names(query, {"starting_date", "ending_date"})
        start = _day(query, "starting_date", required=True)
        end = _day(query, "ending_date") or start + timedelta(days=1)
        _check_range(engagement, name, start, end)
        return orjson.dumps({"data": engagement.range_rows(name, start, end, copy=False), "next_page": None})

    allowed = {"date", "limit", "page"} if name == "artifacts" else {"date", "starting_date", "ending_date", "limit",
                                                                       "page"}
    parameters.check_names(query, allowed)
    limit = parameters.limit(query, LIMIT_DEFAULT, LIMIT_MAX)
    day, start = _day(query, "date"), _day(query, "starting_date")
    if day is not None and start is not None:
        raise ApiError(400, "invalid_request_error",
                       "date and starting_date cannot be used together: give date for one day, or starting_date "
                       "(and ending_date) for a range")
    if day is None and start is None:
        raise ApiError(400, "invalid_request_error",
                       "date: Field required" if name == "artifacts"
                       else "date: Field required (or starting_date, for a range)")
    if "ending_date" in query and start is None:
        raise ApiError(400, "invalid_request_error", "ending_date: requires starting_date")
    if day is not None:
        _check_range(engagement, name, day, day + timedelta(days=1))
        rows = engagement.rows(name, day, copy=False)
    else:
        latest = engagement.latest_day(name)
        end = _day(query, "ending_date") or min(max(latest, start) + timedelta(days=1),
                                                 start + timedelta(days=MAX_RANGE_DAYS))
        _check_range(engagement, name, start, end)
        rows = engagement.range_rows(name, start, end, copy=False)
    return _page(name, path, query, rows, limit)


def _page(name: str, path: str, query: Dict[str, List[str]], rows: List[Dict[str, Any]], limit: int) -> bytes:
    fingerprint = page_tokens.fingerprint(path, sorted((k, v) for k, v in query.items() if k != "page"))
    first = 0
    if "page" in query:
        # Keyed on the last row sent, not an offset: a day revised between two pages loses or repeats no row.
        after = _key(page_tokens.decode(query["page"][0], fingerprint).get("after"))
        first = next((i for i, row in enumerate(rows) if _key(sort_key(name, row)) > after), len(rows))
    page = rows[first:first + limit]
    more = first + limit < len(rows)
    token = page_tokens.encode({"after": sort_key(name, page[-1])}, fingerprint) if more else None
    return orjson.dumps({"data": page, "next_page": token})


def _key(value: Any) -> Tuple[Any, ...]:
    """A sort key as it survives JSON (a tuple comes back a list), comparable with any other."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    if isinstance(value, str):
        return (value,)
    raise ApiError(400, "invalid_request_error", "Invalid page token")


def _day(query: Dict[str, List[str]], name: str, required: bool = False) -> Optional[date]:
    if name not in query:
        if required:
            raise ApiError(400, "invalid_request_error", f"{name}: Field required")
        return None
    text = query[name][0]
    try:
        if len(text) != 10:
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "invalid_request_error",
                       f"{name}: Input should be a valid date in the format YYYY-MM-DD") from None
    if day < FLOOR:
        raise ApiError(400, "invalid_request_error", f"{name}: must be no earlier than {FLOOR.isoformat()}")
    return day


def _check_range(engagement: Engagement, name: str, start: date, end: date) -> None:
    if end <= start:
        raise ApiError(400, "invalid_request_error", "ending_date: must be after starting_date")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ApiError(400, "invalid_request_error",
                       f"ending_date: must be at most {MAX_RANGE_DAYS} days after starting_date")
    last, latest = end - timedelta(days=1), engagement.latest_day(name)
    if last > latest:
        raise ApiError(400, "invalid_request_error", too_recent(last, latest))
