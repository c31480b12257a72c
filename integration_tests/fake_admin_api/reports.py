"""Answers report queries from the organization's atomic rows, the way the Admin API does.

A dimension that is not in `group_by[]` comes back null and its rows are summed; buckets with no
rows are returned with `results: []`; cost amounts are decimal strings in cents.

Older days lack keys that newer days carry, as recorded (§7.5.3): in buckets that start before the
organization's `keys_appear_on` day, usage rows have no `inference_geo`, `account_id` or
`service_account_id` key at all (unless the request groups by that dimension, so grouped rows stay
distinguishable) and cost rows have no `inference_geo` key. From that day on the keys are present
(null when not grouped). Only the keys differ: the rows and their sums are the same either way.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .organization import CostRow, Organization, UsageRow

BUCKET_WIDTHS = {"1d": timedelta(days=1), "1h": timedelta(hours=1), "1m": timedelta(minutes=1)}

USAGE_DIMENSIONS = (
    "model",
    "workspace_id",
    "api_key_id",
    "service_tier",
    "context_window",
    "inference_geo",
    "account_id",
    "service_account_id",
)
# Filter parameter -> dimension it filters on. Note the singular `context_window[]`, as documented.
USAGE_FILTERS = {
    "models[]": "model",
    "workspace_ids[]": "workspace_id",
    "api_key_ids[]": "api_key_id",
    "service_tiers[]": "service_tier",
    "context_window[]": "context_window",
    "inference_geos[]": "inference_geo",
    "account_ids[]": "account_id",
    "service_account_ids[]": "service_account_id",
}
COST_DIMENSIONS = ("workspace_id", "description")
# Fields the cost report fills from a grouped description.
COST_DESCRIPTION_FIELDS = ("cost_type", "model", "token_type", "service_tier", "context_window", "inference_geo")
# Keys missing from the rows of days before Organization.keys_appear_on.
LATE_USAGE_KEYS = ("inference_geo", "account_id", "service_account_id")
LATE_COST_KEYS = ("inference_geo",)


def usage_bucket(
    organization: Organization,
    start: datetime,
    width: timedelta,
    group_by: Sequence[str],
    filters: Mapping[str, Sequence[str]],
) -> Dict[str, Any]:
    end = start + width
    totals: Dict[Tuple[Any, ...], List[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for row in _usage_rows_between(organization, start, end):
        if any(getattr(row, dimension) not in allowed for dimension, allowed in filters.items()):
            continue
        sums = totals[tuple(getattr(row, dimension) for dimension in group_by)]
        sums[0] += row.uncached_input_tokens
        sums[1] += row.cache_read_input_tokens
        sums[2] += row.cache_creation_5m_input_tokens
        sums[3] += row.cache_creation_1h_input_tokens
        sums[4] += row.output_tokens
        sums[5] += row.web_search_requests
    late_keys = () if start.date() >= organization.keys_appear_on else LATE_USAGE_KEYS
    results = []
    for group in sorted(totals, key=_null_first):
        sums = totals[group]
        values = dict(zip(group_by, group))
        result: Dict[str, Any] = {
            "uncached_input_tokens": sums[0],
            "cache_creation": {"ephemeral_1h_input_tokens": sums[3], "ephemeral_5m_input_tokens": sums[2]},
            "cache_read_input_tokens": sums[1],
            "output_tokens": sums[4],
            "server_tool_use": {"web_search_requests": sums[5]},
        }
        for dimension in USAGE_DIMENSIONS:
            if dimension not in late_keys or dimension in values:
                result[dimension] = values.get(dimension)
        results.append(result)
    return {"starting_at": _rfc3339(start), "ending_at": _rfc3339(end), "results": results}


def cost_bucket(organization: Organization, start: datetime, group_by: Sequence[str]) -> Dict[str, Any]:
    end = start + timedelta(days=1)
    totals: Dict[Tuple[Any, ...], Decimal] = defaultdict(Decimal)
    described: Dict[Tuple[Any, ...], CostRow] = {}
    for row in organization.cost_rows(start.date()):
        group = tuple(getattr(row, dimension) for dimension in group_by)
        totals[group] += row.amount_cents
        described.setdefault(group, row)
    late_keys = () if start.date() >= organization.keys_appear_on else LATE_COST_KEYS
    results = []
    for group in sorted(totals, key=_null_first):
        values = dict(zip(group_by, group))
        result: Dict[str, Any] = {
            "amount": format(totals[group], "f"),
            "currency": "USD",
            "workspace_id": values.get("workspace_id"),
            "description": values.get("description"),
        }
        example = described[group]
        for name in COST_DESCRIPTION_FIELDS:
            if name not in late_keys:
                result[name] = getattr(example, name) if "description" in values else None
        results.append(result)
    return {"starting_at": _rfc3339(start), "ending_at": _rfc3339(end), "results": results}


def _usage_rows_between(organization: Organization, start: datetime, end: datetime) -> Iterable[UsageRow]:
    day = start.date()
    while datetime(day.year, day.month, day.day, tzinfo=start.tzinfo) < end:
        rows = organization.usage_rows(day)
        if end - start >= timedelta(days=1):
            yield from rows
        else:
            yield from (row for row in rows if start <= row.at < end)
        day += timedelta(days=1)


def _null_first(group: Tuple[Any, ...]) -> Tuple[Tuple[bool, str], ...]:
    return tuple((value is not None, value or "") for value in group)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(value: str) -> Optional[datetime]:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
