"""The Claude Code streams and the directory lists against a stand-in that sends what no documentation allows
(page_faults.py), through the CLI: the connector never loops, never emits a row twice, and keeps each Claude Code
record on the day it asked for. The two report streams meet the same faults in test_reliability.py."""

from collections import Counter
from datetime import date, timedelta

from integration_tests.connector_cli import configured_catalog, run_connector
from integration_tests.fake_admin_api import CLAUDE_CODE_PATH, WORKSPACES_PATH, FaultPlan, parse_fault
from integration_tests.ground_truth import claude_code_by_key, expected_claude_code

CLAUDE_CODE = ("claude_code_usage", "claude_code_model_usage")
# A connector that loops never ends on its own: these syncs take seconds, so a minute means it is looping.
LOOPING = 60


def warnings(run):
    return [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]


def assert_stopped_at_the_repeated_token(run) -> None:
    assert run.exit_code != 0
    assert "Traceback" not in run.stderr
    assert "with has_more true and the same page token it was asked with" in run.errors()[0]["message"]
    assert "check that api_url is https://api.anthropic.com" in run.errors()[0]["message"]


def test_a_workspaces_page_that_names_its_own_after_id_ends_the_sync_without_a_duplicate(api, config) -> None:
    """Given a stand-in that ignores after_id and always says there is more, When reading workspaces and their
    members, Then the sync stops at the second page, having emitted each workspace once: two pages for the stream
    and two for the members' parent reader, which does not share them (see the manifest's use_cache)."""
    api.faults = FaultPlan([parse_fault("repeat-page-token:path=workspaces@1-")])

    run = run_connector("read", config, configured_catalog("workspaces", "workspace_members", sync_mode="full_refresh"),
                        timeout=LOOPING)

    assert_stopped_at_the_repeated_token(run)
    ids = [workspace["id"] for workspace in run.records("workspaces")]
    assert sorted(ids) == sorted(w["id"] for w in api.directory.workspaces)
    assert len(api.api_requests(WORKSPACES_PATH)) == 4


def test_a_claude_code_page_that_names_its_own_token_ends_the_sync_without_a_duplicate(api, config) -> None:
    """Given a stand-in that ignores the page token of the Claude Code report and always says there is more, When
    reading both Claude Code streams (which share their whole pages), Then each day's first page is asked for once
    and its repeating token once per stream (a day without records ends at its first page, which adds nothing), each
    record is emitted once, and the sync fails in one sentence."""
    first_day = next(day for day in api.organization.day_range() if api.directory.claude_code_records(day))
    api.faults = FaultPlan([parse_fault("repeat-page-token:path=claude_code@1-")])

    run = run_connector("read", {**config, "start_date": first_day.isoformat()},
                        configured_catalog(*CLAUDE_CODE, sync_mode="full_refresh"), timeout=LOOPING)

    assert_stopped_at_the_repeated_token(run)
    requests = api.api_requests(CLAUDE_CODE_PATH)
    first_pages = Counter(r.query["starting_at"][0] for r in requests if "page" not in r.query)
    repeated = Counter(r.query["starting_at"][0] for r in requests if "page" in r.query)
    assert set(first_pages.values()) == {1} and set(repeated.values()) == {2}
    # A day without records stops at its first page, which says there is more but adds nothing.
    assert repeated.keys() == {day for day in first_pages if api.directory.claude_code_records(date.fromisoformat(day))}
    days = [date.fromisoformat(day) for day in first_pages]
    assert claude_code_by_key(run.records("claude_code_usage"), run.records("claude_code_model_usage")) == \
        expected_claude_code(api.directory, days)


def test_claude_code_records_keep_to_the_day_asked_for(api, config, start_date) -> None:
    """Given a day answered with an extra record of the day before, and a day whose records have no date, Then both
    streams hold exactly the stand-in's records, each on its own day, and one warning names the dropped record."""
    days = [start_date + timedelta(days=n) for n in range((date.today() - start_date).days + 1)]
    with_data = [n for n, day in enumerate(days, start=1) if api.directory.claude_code_records(day)]
    api.faults = FaultPlan([parse_fault(f"outside-window:path=claude_code@{with_data[3]}"),
                            parse_fault(f"null-date:path=claude_code@{with_data[4]}")])

    run = run_connector("read", config, configured_catalog(*CLAUDE_CODE, sync_mode="full_refresh"))

    assert run.exit_code == 0, run.errors()
    assert [r.fault for r in api.api_requests(CLAUDE_CODE_PATH) if r.fault] == ["outside-window", "null-date"]
    assert claude_code_by_key(run.records("claude_code_usage"), run.records("claude_code_model_usage")) == \
        expected_claude_code(api.directory, days)
    assert [w for w in warnings(run) if w.startswith("Dropped a Claude Code record dated")] != []


def test_a_truncated_workspaces_page_is_fetched_again_not_replayed(api, config) -> None:
    """Given a 200 whose JSON is cut in half on the first workspaces request, When reading workspaces and their
    members, Then the page is asked for again and both streams hold what a sync without the fault holds: the retry
    goes to the API, not to a cache that kept the broken page."""
    catalog = configured_catalog("workspaces", "workspace_members", sync_mode="full_refresh")
    api.faults = FaultPlan([parse_fault("truncate:path=workspaces@1")])

    run = run_connector("read", config, catalog, timeout=LOOPING)

    api.faults = FaultPlan()
    clean = run_connector("read", config, catalog, timeout=LOOPING)

    assert clean.exit_code == 0 and run.exit_code == 0, run.errors()
    assert sorted(w["id"] for w in run.records("workspaces")) == sorted(w["id"] for w in api.directory.workspaces)
    for stream in ("workspaces", "workspace_members"):
        assert sorted(map(repr, run.records(stream))) == sorted(map(repr, clean.records(stream)))
