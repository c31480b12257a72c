"""The state a sync saves, and what a sync does with the state it is given, through the CLI against the stand-in.

- The state is the start of the last bucket read (reports) or the last day read (Claude Code, today included), with
  or without records: a daily incremental sync is a handful of requests however long the organization has been quiet.
- Every shape of saved state resumes from its cursor (moved to the start of its day) or is refused in one sentence
  (config_error, no traceback, no request); a cursor in the future is read as the newest day, with a warning.
- A stream read in full refresh reads the whole range, whatever state comes with it.
"""

from datetime import date, datetime, timedelta, timezone

import pytest

from integration_tests.connector_cli import configured_catalog, run_connector
from integration_tests.fake_admin_api import (
    CLAUDE_CODE_PATH,
    COST_PATH,
    DEFAULT_ADMIN_KEY,
    USAGE_PATH,
    FakeAdminApi,
    Organization,
)

REPORTS = ("messages_usage", "cost_report")
CLAUDE_CODE = ("claude_code_usage", "claude_code_model_usage")


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def saved(run):
    return {state["stream"]["stream_descriptor"]["name"]: state["stream"]["stream_state"]
            for state in run.final_states()}


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


def stream_state(name, state):
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}


# The shapes a saved state can come in, each saying cost_report's cursor is `saved`: all must resume from it.
STATE_SHAPES = {
    "per stream": lambda saved: [stream_state("cost_report", {"starting_at": saved})],
    "global, with a shared state": lambda saved: [{"type": "GLOBAL", "global": {
        "shared_state": {"cdc": "no"}, "stream_states": [
            {"stream_descriptor": {"name": "cost_report"}, "stream_state": {"starting_at": saved}}]}}],
    "legacy message": lambda saved: [{"type": "LEGACY", "data": {"cost_report": {"starting_at": saved}}}],
    "legacy object": lambda saved: {"cost_report": {"starting_at": saved}},
    "the CDK's date ranges": lambda saved: [stream_state("cost_report", {"state_type": "date-range", "slices": [
        {"start": "2020-01-01T00:00:00Z", "end": saved.replace("T00:00:00Z", "T23:59:59Z")}]})],
    "not at midnight": lambda saved: [stream_state("cost_report", {"starting_at": saved.replace("T00", "T05")})],
}


@pytest.mark.parametrize("shape", list(STATE_SHAPES))
def test_every_state_shape_resumes_from_its_cursor(shape, api, config, organization) -> None:
    saved_day = organization.first_day + timedelta(days=30)
    state = STATE_SHAPES[shape](f"{saved_day}T00:00:00Z")

    run = run_connector("read", config, configured_catalog("cost_report"), state)

    assert run.exit_code == 0, run.errors()
    assert min(request.query["starting_at"][0] for request in api.api_requests(COST_PATH)) == \
        f"{saved_day - timedelta(days=3)}T00:00:00Z"
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize("stream, cursor, value", [
    ("claude_code_usage", "date", "yesterday"),
    ("claude_code_model_usage", "date", 20250131),
    ("messages_usage", "starting_at", "2025-13-01T00:00:00Z"),
])
def test_an_unreadable_cursor_is_refused_in_one_sentence(stream, cursor, value, api, config) -> None:
    run = run_connector("read", config, configured_catalog(stream), [stream_state(stream, {cursor: value})])

    assert run.exit_code != 0
    [error] = run.errors()
    assert error["failure_type"] == "config_error"
    assert error["message"].startswith(f"The saved state of {stream} has {cursor} {value!r}, which is not a UTC")
    assert "Traceback" not in run.stdout + run.stderr
    assert api.api_requests() == []


def test_a_legacy_state_that_is_not_an_object_per_stream_is_refused_in_one_sentence(api, config) -> None:
    run = run_connector("read", config, configured_catalog("cost_report"), {"cost_report": "2025-01-31"})

    assert run.exit_code != 0
    [error] = run.errors()
    assert (error["failure_type"], error["message"][:73]) == (
        "config_error", "The saved state gives cost_report the state '2025-01-31', which is not an")
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize("stream, cursor, future, newest", [
    ("cost_report", "starting_at", "2099-01-01T00:00:00Z", lambda today: f"{today - timedelta(days=1)}T00:00:00Z"),
    ("claude_code_usage", "date", "2099-01-01", lambda today: today.isoformat()),
])
def test_a_state_in_the_future_is_read_as_the_newest_day_with_a_warning(stream, cursor, future, newest, api,
                                                                         config) -> None:
    run = run_connector("read", config, configured_catalog(stream), [stream_state(stream, {cursor: future})])

    assert run.exit_code == 0, run.errors()
    warnings = [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]
    assert any(w.startswith(f"The saved state of {stream} has {cursor} {future!r}, which is past the newest day")
               for w in warnings), warnings
    assert run.records(stream)  # the lookback before the newest day is read again
    assert saved(run) == {stream: {cursor: newest(utc_today())}}


def test_full_refresh_reads_the_whole_range_whatever_state_it_is_given(api, config, organization) -> None:
    """Given a saved state of the reports and Claude Code, when the catalog reads them in full refresh, then every
    record from start_date is read, as without the state."""
    recent = f"{organization.last_day - timedelta(days=5)}T00:00:00Z"
    state = [stream_state(name, {"starting_at": recent}) for name in REPORTS] + [
        stream_state("claude_code_usage", {"date": recent[:10]})]
    catalog = configured_catalog(*REPORTS, "claude_code_usage", sync_mode="full_refresh")

    with_state = run_connector("read", config, catalog, state)
    without_state = run_connector("read", config, catalog)

    assert with_state.exit_code == without_state.exit_code == 0, with_state.errors() + without_state.errors()
    for stream in (*REPORTS, "claude_code_usage"):
        assert with_state.records(stream) == without_state.records(stream), stream
    assert {record["starting_at"][:10] for record in with_state.records("cost_report")} == {
        day.isoformat() for day in organization.day_range()}
