"""What the connector should emit, computed from the stand-in's atomic rows.

Written apart from both the connector's extractor and the stand-in's report code: a plain sum of the
atomic rows by the dimensions each stream groups by, so a bug in either cannot hide in both.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Mapping, Tuple, TypeVar

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


def days_from(first: date, last: date) -> List[date]:
    """Every day from first to last, both included."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def day_start(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


Result = TypeVar("Result")


def on_one_hour(action: Callable[[], Result]) -> Tuple[datetime, Result]:
    """As on_one_day, for what depends on the hour: runs `action` until a run starts and ends within one UTC hour,
    and returns that hour's start with the run's result."""
    for _ in range(2):
        before = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        result = action()
        if datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) == before:
            return before, result
    raise AssertionError("two runs in a row straddled the hour")


def on_one_day(action: Callable[[], Result]) -> Tuple[date, Result]:
    """Runs `action` until a run starts and ends on the same day, and returns that UTC day with the run's result.

    What the connector reads depends on today (in UTC, as it and the stand-in count days; the examples use the
    machine's local date), so a run that straddles midnight answers for either day and an expectation built from
    one of them fails on the other. The rerun starts after that midnight, so a second run is the most it takes.
    """
    for _ in range(2):
        before = (datetime.now(timezone.utc).date(), date.today())
        result = action()
        if (datetime.now(timezone.utc).date(), date.today()) == before:
            return before[0], result
    raise AssertionError("two runs in a row straddled midnight")


def expected_usage(organization: Organization, days: Iterable[date]) -> Dict[Tuple, Dict[str, int]]:
    return _usage_sums(organization, days, lambda row: day_start(row.at.date()))


def expected_usage_hourly(organization: Organization, days: Iterable[date]) -> Dict[Tuple, Dict[str, int]]:
    """As expected_usage, per UTC hour: each atomic row counts in the hour its minute falls in."""
    return _usage_sums(organization, days, lambda row: f"{row.at:%Y-%m-%dT%H}:00:00Z")


def _usage_sums(organization: Organization, days: Iterable[date],
                bucket_of: Callable[[Any], str]) -> Dict[Tuple, Dict[str, int]]:
    expected: Dict[Tuple, Dict[str, int]] = {}
    for day in days:
        for row in organization.usage_rows(day):
            key = (bucket_of(row), row.model, row.workspace_id, row.api_key_id, row.service_tier, row.context_window)
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
            if day < organization.keys_appear_on:  # the API had no inference_geo key yet
                line["inference_geo"] = None
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


CLAUDE_CODE_KEY = ("date", "actor_type", "actor_email_address", "actor_api_key_name", "terminal_type", "is_remote")


def expected_claude_code(directory, days: Iterable[date]) -> Dict[Tuple, Dict[str, Any]]:
    """Per actor, day, terminal and remote flag: the metrics and tool counts; models with their cost in cents."""
    expected: Dict[Tuple, Dict[str, Any]] = {}
    for day in days:
        for record in directory.claude_code_records(day):
            actor = record["actor"]
            key = (day.isoformat(), actor["type"], actor.get("email_address"), actor.get("api_key_name"),
                   record["terminal_type"], record["is_remote"])
            metrics = record["core_metrics"]
            values = {
                "num_sessions": metrics["num_sessions"],
                "lines_added": metrics["lines_of_code"]["added"],
                "lines_removed": metrics["lines_of_code"]["removed"],
                "commits_by_claude_code": metrics["commits_by_claude_code"],
                "pull_requests_by_claude_code": metrics["pull_requests_by_claude_code"],
                "models": {m["model"]: Decimal(repr(m["estimated_cost"]["amount"])) for m in record["model_breakdown"]},
            }
            for tool, counts in record["tool_actions"].items():
                values[f"{tool}_accepted"], values[f"{tool}_rejected"] = counts["accepted"], counts["rejected"]
            expected[key] = values
    return expected


def claude_code_by_key(usage_records, model_records) -> Dict[Tuple, Dict[str, Any]]:
    """The connector's two Claude Code streams in the ground truth's shape."""
    found: Dict[Tuple, Dict[str, Any]] = {}
    for record in usage_records:
        key = tuple(record.get(name) for name in CLAUDE_CODE_KEY)
        assert key not in found, f"two Claude Code records for {key}"
        found[key] = {name: value for name, value in record.items()
                      if name.endswith(("_accepted", "_rejected")) or name in (
                          "num_sessions", "lines_added", "lines_removed", "commits_by_claude_code",
                          "pull_requests_by_claude_code")}
        found[key]["models"] = {}
    for record in model_records:
        models = found[tuple(record.get(name) for name in CLAUDE_CODE_KEY)]["models"]
        assert record["model"] not in models, f"two model rows for {record['model']}"
        assert record["estimated_cost_usd"] * 100 == record["estimated_cost_cents"]  # exact, parsed as Decimal
        models[record["model"]] = Decimal(record["estimated_cost_cents"])
    return found


# -- The Usage and Cost Analytics API ----------------------------------------------------------------------------
# Its documented range rules, computed here from the date alone: nothing before 2026-01-01, nothing older than 365
# days. A stream starts at the latest of start_date, that floor and the first midnight within the 365 days.
ANALYTICS_FLOOR = date(2026, 1, 1)


def analytics_first_day(start_date: date, today: date) -> date:
    """The first day the analytics streams read on `today` (by the UTC clock)."""
    return max(start_date, ANALYTICS_FLOOR, today - timedelta(days=364))


def analytics_days(organization: Organization, start_date: date, today: date) -> list:
    """The days of data the analytics streams can read on `today` (by the UTC clock), from start_date on."""
    first = analytics_first_day(start_date, today)
    return [day for day in organization.day_range() if first <= day < today]


def expected_analytics_usage(organization: Organization, days: Iterable[date]) -> Dict[Tuple, Dict[str, int]]:
    """Tokens per day, API key, workspace and model, summed over every person or service account."""
    expected: Dict[Tuple, Dict[str, int]] = {}
    for day in days:
        for row in organization.usage_rows(day):
            sums = expected.setdefault((day_start(day), row.api_key_id, row.workspace_id, row.model),
                                       dict.fromkeys(USAGE_TOKENS, 0))
            sums["uncached_input_tokens"] += row.uncached_input_tokens
            sums["cache_read_input_tokens"] += row.cache_read_input_tokens
            sums["cache_creation_ephemeral_5m_input_tokens"] += row.cache_creation_5m_input_tokens
            sums["cache_creation_ephemeral_1h_input_tokens"] += row.cache_creation_1h_input_tokens
            sums["output_tokens"] += row.output_tokens
            sums["web_search_requests"] += row.web_search_requests
    return expected


def analytics_usage_totals(records: Iterable[Mapping[str, Any]]) -> Dict[Tuple, Dict[str, int]]:
    """The connector's usage_analytics records summed over actors, in expected_analytics_usage's shape."""
    totals: Dict[Tuple, Dict[str, int]] = {}
    for record in records:
        sums = totals.setdefault((record["starting_at"], record.get("api_key_id"), record.get("workspace_id"),
                                  record.get("model")), dict.fromkeys(USAGE_TOKENS, 0))
        for name in USAGE_TOKENS:
            sums[name] += record.get(name) or 0
    return totals


def expected_rate_limits(limits) -> Dict[Tuple, Dict[str, Any]]:
    """rate_limits by primary key (group_id, limit_type), from the stand-in's groups: one row per group and limiter,
    without its null fields (records omit them). The group sent in the older shape, without group, is keyed by its
    entry's id."""
    rows = {}
    for group in limits.groups:
        group_id = group.rate_limit_id if group.older_shape else group.id
        for limit_type, value in group.limits.items():
            rows[(group_id, limit_type)] = _without_nulls({
                "group_id": group_id, "group_type": group.type, "group_display_name": group.display_name,
                "models": group.models, "rate_limit_id": group.rate_limit_id, "limit_type": limit_type, "value": value})
    return rows


def expected_workspace_rate_limits(limits, workspace_ids: Iterable[str]) -> Dict[Tuple, Dict[str, Any]]:
    """workspace_rate_limits by primary key (workspace_id, group_id, limit_type) for these workspaces: per group the
    workspace may use (a model group: one of its models), each limiter of the organization's with the workspace's
    override or else the organization's value, and each overridden limiter the organization has no value for."""
    rows = {}
    for workspace_id in workspace_ids:
        workspace = limits.workspaces[workspace_id]
        for group in limits.groups:
            models = group.models
            if models is not None and workspace.models is not None:
                models = [model for model in models if model in workspace.models]
                if not models:
                    continue
            overrides = workspace.overrides.get(group.id, {})
            group_id = group.rate_limit_id if group.older_shape else group.id
            for limit_type in {**group.limits, **overrides}:
                org_limit = group.limits.get(limit_type)
                rows[(workspace_id, group_id, limit_type)] = _without_nulls({
                    "workspace_id": workspace_id, "group_id": group_id, "group_type": group.type,
                    "group_display_name": group.display_name, "models": models,
                    "rate_limit_id": group.rate_limit_id, "limit_type": limit_type,
                    "value": overrides.get(limit_type, org_limit), "org_limit": org_limit,
                    "source": "workspace" if limit_type in overrides else "organization"})
    return rows


def _without_nulls(record: Mapping[str, Any]) -> Dict[str, Any]:
    return {name: value for name, value in record.items() if value is not None}
