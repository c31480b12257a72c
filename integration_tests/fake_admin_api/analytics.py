"""Answers the Usage and Cost Analytics API's queries from the organization's atomic rows.

The same atomic usage rows as the legacy reports, and the same prices (organization.row_costs), seen through the
new API's dimensions: each row's actor is the person, else the service account, else the API key that made it (an
`apikey_` actor is "usage attributed to the key itself, not usage on that key attributed to a user or service
account", as documented). Rows come back flat, one per time bucket and combination of the `group_by[]` values that
has usage (documented), each with every dimension of its `group` (null unless grouped).
"""

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from . import analytics_unknowns as unknown
from .organization import LIST_PRICE_PER_PAID, Organization, UsageRow, row_costs

# ✅ The documented dimensions (BetaAnalyticsCostGroupBy), with the end of the list that the docs cut off (❓).
COST_DIMENSIONS = tuple(sorted((
    "actor", "actor_type", "agent_id", "api_key_id", "claude_tag_category", "claude_tag_user_id", "context_window",
    "cost_type", "deployment_id", "environment_id", "inference_geo", "model", "product", "rbac_group_id",
    *unknown.INFERRED_GROUP_BY,
)))
# ❓ Usage has the same set without the cost components.
USAGE_DIMENSIONS = tuple(d for d in COST_DIMENSIONS if d not in ("cost_type", "token_type"))
# The synthetic organization's code execution: one span per 2.5 cents of it, rounded up.
CODE_EXECUTION_CENTS_PER_SPAN = Decimal("2.5")
# ✅ Filters (array query parameters) and the dimension each selects on.
FILTERS = {
    "actor_ids[]": "actor_id", "actor_types[]": "actor_type", "agent_ids[]": "agent_id",
    "api_key_ids[]": "api_key_id", "claude_tag_categories[]": "claude_tag_category",
    "claude_tag_user_ids[]": "claude_tag_user_id", "context_windows[]": "context_window",
    "deployment_ids[]": "deployment_id", "environment_ids[]": "environment_id", "inference_geos[]": "inference_geo",
    "models[]": "model", "products[]": "product", "rbac_group_ids[]": "rbac_group_id",
    "service_tiers[]": "service_tier", "session_ids[]": "session_id", "slack_channel_ids[]": "slack_channel_id",
    "speeds[]": "speed", "user_profile_ids[]": "user_profile_id", "workspace_ids[]": "workspace_id",
}


class Fact(NamedTuple):
    """One atomic, fully dimensioned piece of usage or cost."""
    at: datetime
    dimensions: Mapping[str, Any]
    metrics: Mapping[str, Any]


def actor_of(organization: Organization, row: UsageRow) -> Optional[Dict[str, Any]]:
    """Who a usage row is attributed to: its person, else its service account, else its API key itself."""
    if row.account_id is not None:
        index = organization.accounts.index(row.account_id)
        return {"type": unknown.USER_ACTOR, "user_id": row.account_id, "email_address": f"person{index}@example.com",
                "name": f"Person {index}", "deleted": False}
    if row.service_account_id is not None:
        return {"type": unknown.SERVICE_ACCOUNT_ACTOR, "service_account_id": row.service_account_id}
    if row.api_key_id is not None:
        return {"type": unknown.API_KEY_ACTOR, "api_key_id": row.api_key_id}
    return None


def actor_id(actor: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The tagged id `actor_ids[]` selects an actor by."""
    if actor is None:
        return None
    return actor.get("user_id") or actor.get("service_account_id") or actor.get("api_key_id")


def usage_dimensions(organization: Organization, row: UsageRow) -> Dict[str, Any]:
    actor = actor_of(organization, row)
    dimensions: Dict[str, Any] = dict.fromkeys(COST_DIMENSIONS)
    dimensions.update(
        actor=actor, actor_id=actor_id(actor), actor_type=unknown.ACTOR_TYPES[actor["type"]] if actor else None,
        api_key_id=row.api_key_id, workspace_id=row.workspace_id, model=row.model, service_tier=row.service_tier,
        context_window=row.context_window, inference_geo=row.inference_geo, product=unknown.API_PRODUCT,
    )
    return dimensions


def usage_facts(organization: Organization, day: date) -> List[Fact]:
    facts = []
    for row in organization.usage_rows(day):
        metrics = {
            "uncached_input_tokens": row.uncached_input_tokens,
            "cache_read_input_tokens": row.cache_read_input_tokens,
            "cache_creation.ephemeral_5m_input_tokens": row.cache_creation_5m_input_tokens,
            "cache_creation.ephemeral_1h_input_tokens": row.cache_creation_1h_input_tokens,
            "output_tokens": row.output_tokens,
            "server_tool_use.web_search_requests": row.web_search_requests,
            "requests": 1,  # an atomic row stands for one request
        }
        facts.append(Fact(row.at, usage_dimensions(organization, row), metrics))
    return facts


def cost_facts(organization: Organization, day: date) -> List[Fact]:
    facts = []
    for row in organization.usage_rows(day):
        if row.service_tier == "priority" and not unknown.COST_INCLUDES_PRIORITY_TIER:
            continue
        dimensions = usage_dimensions(organization, row)
        requests = 1  # counted once per request, on its first priced part
        for cost_type, token_type, cents in row_costs(row):
            facts.append(Fact(row.at, {**dimensions, "cost_type": cost_type, "token_type": token_type},
                              {"amount": cents, "requests": requests}))
            requests = 0
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    for workspace_id, cents in organization.code_execution(day):
        dimensions = {**dict.fromkeys(COST_DIMENSIONS), "actor_id": None, "workspace_id": workspace_id,
                      "cost_type": "code_execution"}
        # Code execution counts execution spans, not requests, and has no product (documented).
        spans = int(cents / CODE_EXECUTION_CENTS_PER_SPAN) + 1
        facts.append(Fact(midnight, dimensions, {"amount": cents, "requests": spans}))
    return facts


def rows(facts: Iterable[Fact], kind: str, start: datetime, end: datetime, bucket: Optional[timedelta],
         group_by: Sequence[str], filters: Mapping[str, Set[str]], served_until: datetime) -> List[Dict[str, Any]]:
    """The flat rows for [start, end): one per bucket (or one for the whole range) and group that has usage before
    served_until, in bucket order, then by group (nulls first)."""
    totals: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
    groups: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
    grouped_by_component = kind == "cost" and bool({"cost_type", "token_type"} & set(group_by))
    for fact in facts:
        if not start <= fact.at < min(end, served_until):
            continue
        if any(fact.dimensions.get(dimension) not in allowed for dimension, allowed in filters.items()):
            continue
        bucket_start = start + ((fact.at - start) // bucket) * bucket if bucket else start
        group = tuple(_hashable(fact.dimensions[dimension]) for dimension in group_by)
        key = (bucket_start, group)
        if key not in totals:
            totals[key] = defaultdict(int)
            groups[key] = {dimension: fact.dimensions[dimension] for dimension in group_by}
        for name, value in fact.metrics.items():
            totals[key][name] += value
    dimensions = COST_DIMENSIONS if kind == "cost" else USAGE_DIMENSIONS
    answer = []
    for key in sorted(totals, key=lambda key: (key[0], _null_first(key[1]))):
        bucket_start, _ = key
        row: Dict[str, Any] = {
            "starting_at": _rfc3339(bucket_start),
            "ending_at": _rfc3339(bucket_start + bucket if bucket else end),
            "group": {dimension: groups[key].get(dimension) for dimension in dimensions},
        }
        sums = totals[key]
        if kind == "cost":
            row["cost"] = {
                "amount": format(sums["amount"], "f"),
                "currency": "USD",
                "list_amount": format(sums["amount"] * LIST_PRICE_PER_PAID, "f"),
                # Documented: null when grouped by cost_type or token_type.
                "requests": None if grouped_by_component else sums["requests"],
            }
        else:
            row["usage"] = {
                "uncached_input_tokens": sums["uncached_input_tokens"],
                "cache_read_input_tokens": sums["cache_read_input_tokens"],
                "cache_creation": {
                    "ephemeral_1h_input_tokens": sums["cache_creation.ephemeral_1h_input_tokens"],
                    "ephemeral_5m_input_tokens": sums["cache_creation.ephemeral_5m_input_tokens"],
                },
                "output_tokens": sums["output_tokens"],
                "server_tool_use": {"web_search_requests": sums["server_tool_use.web_search_requests"]},
                "requests": sums["requests"],
            }
        answer.append(row)
    return answer


def _hashable(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def _null_first(group: Tuple[Any, ...]) -> Tuple[Tuple[bool, str], ...]:
    return tuple((value is not None, str(value) if value is not None else "") for value in group)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
