"""What the connector should emit, computed from the stand-in's atomic rows.

Written apart from both the connector's extractor and the stand-in's report code: a plain sum of the
atomic rows by the dimensions each stream groups by, so a bug in either cannot hide in both.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, Mapping, Tuple

from integration_tests.fake_admin_api import Organization

USAGE_KEY = ("starting_at", "model", "workspace_id", "api_key_id", "service_tier", "context_window")
USAGE_TOKENS = (
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation_ephemeral_5m_input_tokens",
    "cache_creation_ephemeral_1h_input_tokens",
    "output_tokens",
    "web_search_requests",
)
COST_KEY = ("starting_at", "workspace_id", "description")
COST_PARSED = ("cost_type", "model", "token_type", "service_tier", "context_window", "inference_geo")


def day_start(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def expected_usage(organization: Organization, days: Iterable[date]) -> Dict[Tuple, Dict[str, int]]:
    expected: Dict[Tuple, Dict[str, int]] = {}
    for day in days:
        for row in organization.usage_rows(day):
            key = (day_start(day), row.model, row.workspace_id, row.api_key_id, row.service_tier, row.context_window)
            sums = expected.setdefault(key, dict.fromkeys(USAGE_TOKENS, 0))
            sums["uncached_input_tokens"] += row.uncached_input_tokens
            sums["cache_read_input_tokens"] += row.cache_read_input_tokens
            sums["cache_creation_ephemeral_5m_input_tokens"] += row.cache_creation_5m_input_tokens
            sums["cache_creation_ephemeral_1h_input_tokens"] += row.cache_creation_1h_input_tokens
            sums["output_tokens"] += row.output_tokens
            sums["web_search_requests"] += row.web_search_requests
    return expected


def expected_cost(organization: Organization, days: Iterable[date]) -> Dict[Tuple, Dict[str, Any]]:
    expected: Dict[Tuple, Dict[str, Any]] = {}
    for day in days:
        for row in organization.cost_rows(day):
            key = (day_start(day), row.workspace_id, row.description)
            line = expected.setdefault(key, {"amount": Decimal(0), **{name: getattr(row, name) for name in COST_PARSED}})
            line["amount"] += row.amount_cents
    return expected


def usage_by_key(records: Iterable[Mapping[str, Any]]) -> Dict[Tuple, Dict[str, int]]:
    """The connector's usage records in the ground truth's shape; a duplicate key is an error."""
    return _by_key(records, USAGE_KEY, lambda record: {name: record.get(name) for name in USAGE_TOKENS})


def cost_by_key(records: Iterable[Mapping[str, Any]]) -> Dict[Tuple, Dict[str, Any]]:
    return _by_key(records, COST_KEY, lambda record: {
        "amount": Decimal(record["amount"]), **{name: record.get(name) for name in COST_PARSED}})


def _by_key(records: Iterable[Mapping[str, Any]], key_fields: Tuple[str, ...],
            values: Callable[[Mapping[str, Any]], Dict[str, Any]]) -> Dict[Tuple, Dict[str, Any]]:
    found: Dict[Tuple, Dict[str, Any]] = {}
    for record in records:
        key = tuple(record.get(name) for name in key_fields)
        assert key not in found, f"two records for {key}"
        found[key] = values(record)
    return found


def tokens_per_day_and_model(rows: Mapping[Tuple, Mapping[str, int]]) -> Dict[Tuple[str, str], int]:
    totals: Dict[Tuple[str, str], int] = defaultdict(int)
    for (starting_at, model, *_), sums in rows.items():
        totals[(starting_at, model)] += sum(sums.values())
    return dict(totals)
