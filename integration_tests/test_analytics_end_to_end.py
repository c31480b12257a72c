"""usage_analytics and cost_analytics through the installed `source-claude` command, against the stand-in.

Expectations come from the stand-in's atomic rows (ground_truth.py) and from the documented range rules computed
from the date alone, never from the connector. The reconciliation tests compare, for the same days, the analytics
streams with the legacy ones: tokens sum exactly to messages_usage's, and cost amounts to cost_report's, per day
and workspace (the groupings both have).
"""

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from integration_tests.connector_cli import RUNTIMES, configured_catalog, deduplicated, run_connector
from integration_tests.conftest import ORGANIZATION
from integration_tests.fake_admin_api import (
    COST_ANALYTICS_PATH,
    DEFAULT_ADMIN_KEY,
    DEFAULT_ANALYTICS_KEY,
    USAGE_ANALYTICS_PATH,
    FakeAdminApi,
    FaultPlan,
    Organization,
    analytics_unknowns,
    parse_fault,
)
from integration_tests.ground_truth import (
    analytics_days,
    analytics_first_day,
    analytics_usage_totals,
    day_start,
    expected_analytics_usage,
    on_one_day,
)

ANALYTICS = ("usage_analytics", "cost_analytics")
TOKENS = ("uncached_input_tokens", "cache_read_input_tokens", "cache_creation_ephemeral_5m_input_tokens",
          "cache_creation_ephemeral_1h_input_tokens", "output_tokens", "web_search_requests")


def read(config, *streams, state=None, sync_mode="incremental", runtime="package"):
    return run_connector("read", config, configured_catalog(*streams, sync_mode=sync_mode), state, runtime=runtime)


def test_usage_analytics_holds_every_token_of_the_days_the_api_serves(api, config, organization, start_date) -> None:
    today, run = on_one_day(lambda: read(config, "usage_analytics"))

    assert run.exit_code == 0, run.stderr
    days = analytics_days(organization, start_date, today)
    records = run.records("usage_analytics")
    assert analytics_usage_totals(records) == expected_analytics_usage(organization, days)
    assert len({record["row_key"] for record in records}) == len(records)
    # Per person: every user's tokens, read from their actor columns.
    per_user = defaultdict(int)
    for record in records:
        if record.get("actor_user_id"):
            per_user[(record["starting_at"], record["actor_user_id"])] += record["output_tokens"]
    expected = defaultdict(int)
    for day in days:
        for row in organization.usage_rows(day):
            if row.account_id:
                expected[(day_start(day), row.account_id)] += row.output_tokens
    assert per_user == expected
    assert expected or not days  # on 2026-01-01 the API serves no day yet


NANO_DOLLAR = Decimal("0.000000001")


def test_cost_analytics_money_is_exact_and_per_api_key(api, config, organization, start_date) -> None:
    today, run = on_one_day(lambda: read(config, "cost_analytics"))

    assert run.exit_code == 0, run.stderr
    records = run.records("cost_analytics")
    days = analytics_days(organization, start_date, today)
    assert records or not days
    for record in records:
        assert isinstance(record["amount"], str) and isinstance(record["list_amount"], str)
        # cents / 100 at 9 decimals, half to even: the stand-in's analytics cents have up to 9 decimals, so some round.
        for cents in ("amount", "list_amount"):
            assert record[f"{cents}_usd"] == (Decimal(record[cents]) / 100).quantize(NANO_DOLLAR, ROUND_HALF_EVEN)
        assert record["currency"] == "USD"
    assert {record["starting_at"] for record in records} == {day_start(day) for day in days}
    assert any(record.get("api_key_id") for record in records) or not days
    assert any(Decimal(record["amount"]).as_tuple().exponent < -7 for record in records) or not days  # some rounded


def test_reconciliation_with_the_legacy_streams_for_the_same_days(api, config, organization, start_date) -> None:
    """Tokens per day and model equal messages_usage's; cost per day and workspace equals cost_report's."""
    today, run = on_one_day(lambda: read(config, "messages_usage", "cost_report", *ANALYTICS,
                                         sync_mode="full_refresh"))
    assert run.exit_code == 0, run.stderr
    days = {day_start(day) for day in analytics_days(organization, start_date, today)}

    def tokens(stream):
        totals = defaultdict(lambda: dict.fromkeys(TOKENS, 0))
        for record in run.records(stream):
            if record["starting_at"] in days:
                for name in TOKENS:
                    totals[(record["starting_at"], record.get("model"))][name] += record.get(name) or 0
        return dict(totals)

    def amounts(stream):
        totals = defaultdict(Decimal)
        for record in run.records(stream):
            if record["starting_at"] in days:
                totals[(record["starting_at"], record.get("workspace_id"))] += Decimal(record["amount"])
        return dict(totals)

    assert tokens("usage_analytics") == tokens("messages_usage") and (tokens("messages_usage") or not days)
    assert amounts("cost_analytics") == amounts("cost_report") and (amounts("cost_report") or not days)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_small_pages_and_an_expired_cursor_emit_every_row_once(api, config, organization, runtime) -> None:
    api.analytics.max_rows_per_page = 30
    # A day holds more than 30 rows, so the first window has at least two pages, and requests 2 and 4 (its second
    # page, then its second page again after the restart) find their cursors expired. Three days are enough.
    start_date = organization.last_day - timedelta(days=2)
    config = {**config, "start_date": start_date.isoformat()}
    api.faults = FaultPlan([parse_fault(f"410:path={USAGE_ANALYTICS_PATH}@2,4")])
    try:
        today, run = on_one_day(lambda: (api.clear_log(), read(config, "usage_analytics", runtime=runtime))[1])
    finally:
        api.analytics.max_rows_per_page = None

    assert run.exit_code == 0, run.stderr
    records = run.records("usage_analytics")
    assert len({record["row_key"] for record in records}) == len(records)
    assert analytics_usage_totals(records) == expected_analytics_usage(
        organization, analytics_days(organization, start_date, today))
    statuses = [request.status for request in api.api_requests(USAGE_ANALYTICS_PATH)]
    assert statuses.count(410) == 2
    # Each expired cursor sent the window back to its first page (a request without a page token).
    requests = api.api_requests(USAGE_ANALYTICS_PATH)
    for index, request in enumerate(requests[:-1]):
        if request.status == 410:
            assert "page" in request.query and "page" not in requests[index + 1].query
    said = [log["log"]["message"] for log in run.of_type("LOG") if "expired (HTTP 410)" in log["log"]["message"]]
    assert len(said) == 2, said


def test_an_incremental_sync_rereads_the_lookback_and_picks_up_restated_days(start_date) -> None:
    """Given a day restated after a sync, the next sync (from the state, with a 12-day lookback) reads it again,
    and the deduplicated records hold the day's new total, to the cent."""
    organization = Organization(**ORGANIZATION)  # its own: the restatement must not reach other tests
    with FakeAdminApi(organization) as api:
        config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": start_date.isoformat(), "api_url": api.url}
        first = read(config, "cost_analytics")
        assert first.exit_code == 0, first.stderr
        [state] = first.final_states()
        restated = organization.last_day  # inside the lookback, and served on any date but 2026-01-01
        before = sum(row.amount_cents for row in organization.cost_rows(restated))
        organization.restate(restated)
        api.clear_log()
        today, second = on_one_day(lambda: read({**config, "analytics_lookback_window_days": 12}, "cost_analytics",
                                                state=[state]))

    assert state["stream"]["stream_state"]["starting_at"] == day_start(organization.last_day)
    assert second.exit_code == 0, second.stderr
    first_reread = max(organization.last_day - timedelta(days=12), analytics_first_day(start_date, today))
    assert min(request.query["starting_at"][0] for request in api.api_requests(COST_ANALYTICS_PATH)) == \
        day_start(first_reread)
    merged = deduplicated(first.records("cost_analytics") + second.records("cost_analytics"))
    after = sum(Decimal(r["amount"]) for r in merged.values() if r["starting_at"] == day_start(restated))
    assert after == sum(row.amount_cents for row in organization.cost_rows(restated)) != before


# -- Key kinds -----------------------------------------------------------------------------------------------------
ADMIN_ONLY = ("messages_usage", "cost_report", "claude_code_usage", "users", "rate_limits")


@pytest.mark.parametrize("refused_with", [403, 401])
def test_an_analytics_key_reads_the_analytics_streams_and_skips_the_others_with_one_warning_each(
        refused_with, api, config, organization, start_date, monkeypatch) -> None:
    """Given a Claude Enterprise organization's key (sk-ant-api01-..., read:analytics) in admin_api_key, when every
    kind of stream is selected, then the analytics streams hold every token, and each other stream is skipped with
    exactly one warning, without a request to it. Whichever status the Admin API refuses the key with: a 401 there
    says what the key reads, and must not stop the sync as a rejected key's does."""
    monkeypatch.setattr(analytics_unknowns, "WRONG_KEY_KIND_STATUS", refused_with)
    enterprise = {**config, "admin_api_key": DEFAULT_ANALYTICS_KEY}

    def sync():
        api.clear_log()
        return read(enterprise, *ADMIN_ONLY, "workspace_members", "workspace_rate_limits", *ANALYTICS)

    today, run = on_one_day(sync)

    assert run.exit_code == 0, run.stderr
    assert analytics_usage_totals(run.records("usage_analytics")) == expected_analytics_usage(
        organization, analytics_days(organization, start_date, today))
    assert run.records("cost_analytics") or not analytics_days(organization, start_date, today)
    warnings = [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]
    for stream in ADMIN_ONLY:
        assert len([w for w in warnings if w.startswith(f"Skipping {stream}: this key reads only")]) == 1, warnings
        assert run.records(stream) == []
    # workspace_members and workspace_rate_limits are skipped as their parent is, in one warning naming it.
    assert len([w for w in warnings if w.startswith("Skipping workspaces: this key reads only")]) == 1, warnings
    assert run.records("workspace_members") == run.records("workspace_rate_limits") == []
    # One probe of the Admin API tells the key's kind: the skipped streams, reports and lists, send no request.
    assert [r.path for r in api.api_requests() if not r.path.startswith("/v1/organizations/analytics/")] == [
        "/v1/organizations/usage_report/messages"]
    # A skipped report claims nothing as read: its state stays where the sync started.
    states = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in run.final_states()}
    assert states["messages_usage"] == states["cost_report"] == {"starting_at": day_start(start_date)}


def test_a_key_that_reads_nothing_ends_the_sync_in_one_sentence(api, config) -> None:
    """Given a key both APIs refuse, Then the sync sends one probe to each and nothing more; each stream fails once
    (not once per window) with the sentence saying which key to set, and the CDK's closing summary names that
    sentence once, the other streams as stopped by it."""
    run = read({**config, "admin_api_key": "sk-ant-api01-no-analytics-scope"}, "messages_usage", *ANALYTICS)

    assert run.exit_code == 1
    assert len(api.api_requests()) == 3  # one question to each of the three APIs
    *stream_errors, summary = run.errors()
    assert sorted(error["stream_descriptor"]["name"] for error in stream_errors) == \
        sorted(["messages_usage", *ANALYTICS])
    [sentence] = {error["message"] for error in stream_errors}
    assert sentence.startswith("This key can read none of the streams: Anthropic refused it on the Admin API and on "
                               "both Analytics APIs"), sentence
    assert ".;" not in sentence
    assert summary["message"].count(sentence) == 1 and "AirbyteTracedException(None)" not in summary["message"]
    assert "Traceback" not in run.stderr and "sk-ant-api01-no-analytics-scope" not in run.stdout
    assert run.records() == []


def test_days_ending_after_data_refreshed_at_wait_for_a_later_sync(api, config, organization, start_date) -> None:
    """Given the API's data refreshed only up to noon two days ago, the last two days are not settled: none of
    their rows are emitted and the state stays on the last settled day, so the next sync reads them."""
    last = organization.last_day
    refreshed = datetime(last.year, last.month, last.day, 12, tzinfo=timezone.utc) - timedelta(days=1)
    api.analytics.data_refreshed_at = refreshed
    try:
        today, run = on_one_day(lambda: read(config, "usage_analytics"))
    finally:
        api.analytics.data_refreshed_at = None

    assert run.exit_code == 0, run.stderr
    settled = [day for day in analytics_days(organization, start_date, today) if day < last - timedelta(days=1)]
    assert analytics_usage_totals(run.records("usage_analytics")) == expected_analytics_usage(organization, settled)
    [state] = run.final_states()
    # The last settled day, or where the stream starts if none of its days is settled yet.
    claimed = max(last - timedelta(days=2), analytics_first_day(start_date, today))
    assert state["stream"]["stream_state"] == {"starting_at": day_start(claimed)}
    # And one warning says how many days wait, from the first unsettled one the stream reads.
    first_held = max(last - timedelta(days=1), analytics_first_day(start_date, today))
    days = (last - first_held).days + 1
    held_back = f"usage_analytics holds back {days} day{'s' if days > 1 else ''} ({first_held} to {last}): "
    assert [m for m in run.of_type("LOG") if m["log"]["message"].startswith(held_back)], run.stdout[-2000:]


def test_rate_limits_and_server_errors_are_waited_out_as_on_the_reports(api, config, organization, start_date) -> None:
    api.faults = FaultPlan([parse_fault(f"429:reset=1,path={COST_ANALYTICS_PATH}@1"),
                            parse_fault(f"503:path={COST_ANALYTICS_PATH}@2")])
    today, run = on_one_day(lambda: (api.clear_log(), read(config, "cost_analytics"))[1])

    assert run.exit_code == 0, run.stderr
    statuses = [request.status for request in api.api_requests(COST_ANALYTICS_PATH)]
    assert statuses[:3] == [429, 503, 200]  # the first request, waited out twice
    logs = [m["log"]["message"] for m in run.of_type("LOG")]
    assert any(line.startswith("Waiting") and "HTTP 429" in line for line in logs)
    total = sum(Decimal(record["amount"]) for record in run.records("cost_analytics"))
    days = analytics_days(organization, start_date, today)
    assert total == sum(row.amount_cents for day in days for row in organization.cost_rows(day))


def test_a_refused_request_is_not_retried_and_ends_the_sync_in_one_sentence(api, config) -> None:
    """A 400 carries x-should-retry: false, as every 4xx of the API: one request, then the API's message."""
    api.faults = FaultPlan([parse_fault(f"400:path={USAGE_ANALYTICS_PATH}@1")])
    api.clear_log()
    run = read(config, "usage_analytics")

    assert run.exit_code == 1
    requests = api.api_requests(USAGE_ANALYTICS_PATH)
    refused = requests[0]
    assert refused.status == 400
    assert [r.query for r in requests].count(refused.query) == 1  # not sent again
    [message] = {error["message"] for error in run.errors() if "refused the request" in error["message"]}
    assert message.startswith("The Anthropic Admin API refused the request (HTTP 400): Injected fault: HTTP 400")
