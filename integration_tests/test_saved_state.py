"""The state a sync saves, and what a sync does with the state it is given, through the CLI against the stand-in.

- The state is the start of the last bucket read (reports) or the last day read (Claude Code, today included), with
  or without records: a daily incremental sync is a handful of requests however long the organization has been quiet.
"""

from datetime import date, datetime, timedelta, timezone

from integration_tests.connector_cli import configured_catalog, run_connector
from integration_tests.fake_admin_api import CLAUDE_CODE_PATH, COST_PATH, DEFAULT_ADMIN_KEY, USAGE_PATH, FakeAdminApi, Organization

REPORTS = ("messages_usage", "cost_report")
CLAUDE_CODE = ("claude_code_usage", "claude_code_model_usage")


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def saved(run):
    return {state["stream"]["stream_descriptor"]["name"]: state["stream"]["stream_state"] for state in run.final_states()}


def test_weeks_without_usage_leave_the_state_so_the_next_sync_is_a_handful_of_requests() -> None:
    """Given an organization whose usage, cost and Claude Code stopped three weeks ago, when it is synced twice, then
    the first sync saves the last bucket and day it read, and the second asks for only the lookback's days."""
    today = utc_today()
    quiet = Organization(seed=5, days=10, rows_per_day=10, last_day=today - timedelta(days=21))
    with FakeAdminApi(quiet) as api:
        config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": quiet.first_day.isoformat(), "api_url": api.url}
        catalog = configured_catalog(*REPORTS, *CLAUDE_CODE)
        first = run_connector("read", config, catalog)
        api.clear_log()
        second = run_connector("read", config, catalog, first.final_states())

    assert first.exit_code == second.exit_code == 0, first.errors() + second.errors()
    yesterday = f"{today - timedelta(days=1)}T00:00:00Z"
    assert saved(first) == {"messages_usage": {"starting_at": yesterday}, "cost_report": {"starting_at": yesterday},
                            "claude_code_usage": {"date": today.isoformat()},
                            "claude_code_model_usage": {"date": today.isoformat()}}
    assert saved(second) == saved(first)
    # One window per report (the 3-day lookback), and the 4 lookback days plus the state's day for Claude Code.
    assert len(api.api_requests(USAGE_PATH)) == len(api.api_requests(COST_PATH)) == 1
    assert sorted(request.query["starting_at"][0] for request in api.api_requests(CLAUDE_CODE_PATH)) == [
        (today - timedelta(days=back)).isoformat() for back in range(4, -1, -1)]
