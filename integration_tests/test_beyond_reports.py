"""The Claude Code streams and the dimension tables, through the CLI against the stand-in, with ground truth.

Every id in the usage report must resolve in the dimension tables (archived workspaces included), the Claude Code
streams must hold exactly the stand-in's records and model costs from one request per day whichever of them are
selected (a truncated page is fetched again), and a stream the key cannot read (or a workspace whose members are
refused) is skipped with a warning while the others complete.
"""

from collections import Counter
from datetime import date, timedelta

import pytest

from integration_tests.connector_cli import configured_catalog, deduplicated, run_connector
from integration_tests.fake_admin_api import CLAUDE_CODE_PATH, INVITES_PATH, FakeAdminApi, FaultPlan, parse_fault
from integration_tests.ground_truth import claude_code_by_key, expected_claude_code, expected_usage, on_one_day
from integration_tests.manifest_streams import FULL_REFRESH_ONLY

CLAUDE_CODE = ("claude_code_usage", "claude_code_model_usage")
# The organization's directory and rate limits: every stream read whole each sync.
DIRECTORY = FULL_REFRESH_ONLY


def days_through(start_date, today):
    """Every day the connector reads when it runs on `today` (UTC): through today, which it reads as far as it has
    data."""
    return [(start_date + timedelta(days=n)).isoformat() for n in range((today - start_date).days + 1)]


def read_on_one_day(api, config, *streams):
    """A full refresh of `streams`, with the UTC day it ran on (rerun if it straddled midnight), and a fresh log."""
    def full_refresh():
        api.clear_log()
        return run_connector("read", config, configured_catalog(*streams, sync_mode="full_refresh"))
    return on_one_day(full_refresh)


def requested_days(api):
    """The day each Claude Code request asked for, one entry per request."""
    return sorted(request.query["starting_at"][0] for request in api.api_requests(CLAUDE_CODE_PATH))


def as_emitted(objects):
    """The API's objects as RECORD messages carry them: the CDK omits top-level nulls."""
    return [{key: value for key, value in item.items() if value is not None} for item in objects]


def test_dimension_tables_hold_the_directory_and_resolve_every_id_in_usage(api, config, organization) -> None:
    run = run_connector("read", config, configured_catalog("messages_usage", *DIRECTORY, sync_mode="full_refresh"))

    assert run.exit_code == 0, run.errors()
    directory = api.directory
    assert run.records("organization") == [directory.me]
    assert run.records("workspaces") == as_emitted(directory.workspaces)
    assert any(w.get("archived_at") for w in run.records("workspaces"))
    assert {(m["workspace_id"], m["user_id"]) for m in run.records("workspace_members")} == {
        (m["workspace_id"], m["user_id"]) for members in directory.members.values() for m in members}
    for key in run.records("api_keys"):
        source = next(k for k in directory.api_keys if k["id"] == key["id"])
        assert key["created_by_id"] == source["created_by"]["id"]
        assert key.get("principal_id") == (source["principal"] or {}).get("id")
    assert len(run.records("api_keys")) == len(directory.api_keys)
    assert run.records("users") == as_emitted(directory.users)
    assert run.records("invites") == as_emitted(directory.invites)

    # The joins users make: every workspace and key in usage has a name (null workspace = the default one).
    workspaces = {w["id"] for w in run.records("workspaces")}
    keys = {k["id"] for k in run.records("api_keys")}
    usage = run.records("messages_usage")
    assert {r["workspace_id"] for r in usage if r.get("workspace_id")} <= workspaces
    assert {r["api_key_id"] for r in usage if r.get("api_key_id")} <= keys


def test_claude_code_streams_hold_every_record_and_model_cost(api, config, organization, start_date) -> None:
    # The connector reads through today, UTC, by its own clock: the expected days come from the same day.
    today, run = read_on_one_day(api, config, *CLAUDE_CODE)

    assert run.exit_code == 0, run.errors()
    days = days_through(start_date, today)
    assert claude_code_by_key(run.records("claude_code_usage"), run.records("claude_code_model_usage")) == \
        expected_claude_code(api.directory, map(date.fromisoformat, days))
    # One request per day for both streams, today included: the second stream reads the first one's pages.
    assert requested_days(api) == days


@pytest.mark.parametrize("stream", CLAUDE_CODE)
def test_either_claude_code_stream_alone_asks_for_each_day_once(api, config, start_date, stream) -> None:
    today, run = read_on_one_day(api, config, stream)

    assert run.exit_code == 0, run.errors()
    assert run.records(stream)
    assert requested_days(api) == days_through(start_date, today)


def test_a_truncated_claude_code_page_is_fetched_again_not_handed_on(api, config, start_date) -> None:
    """Given a 200 whose JSON is cut in half on the 40th day, when both streams are read, then that day is asked for
    twice and every other day once, and both streams hold exactly the stand-in's records."""
    api.faults = FaultPlan([parse_fault("truncate:path=claude_code@40")])

    today, run = read_on_one_day(api, config, *CLAUDE_CODE)

    assert run.exit_code == 0, run.errors()
    days = days_through(start_date, today)
    assert claude_code_by_key(run.records("claude_code_usage"), run.records("claude_code_model_usage")) == \
        expected_claude_code(api.directory, map(date.fromisoformat, days))
    [truncated] = [request.query["starting_at"][0] for request in api.api_requests(CLAUDE_CODE_PATH) if request.fault]
    assert Counter(requested_days(api)) == Counter(days + [truncated])


def test_claude_code_incremental_syncs_with_lookback_equal_a_full_refresh(api, config, organization) -> None:
    catalog = configured_catalog(*CLAUDE_CODE)
    split = organization.first_day + timedelta(days=40)
    first = run_connector("read", {**config, "end_date": split.isoformat()}, catalog)
    api.clear_log()
    second = run_connector("read", {**config, "claude_code_lookback_window_days": 2}, catalog, first.final_states())
    resumed_from = min(request.query["starting_at"][0] for request in api.api_requests(CLAUDE_CODE_PATH))
    reference = run_connector("read", config, configured_catalog(*CLAUDE_CODE, sync_mode="full_refresh"))

    assert first.exit_code == second.exit_code == reference.exit_code == 0
    saved = min(s["stream"]["stream_state"]["date"] for s in first.final_states())
    assert saved < split.isoformat()  # end_date is excluded, as for the reports
    assert resumed_from == (date.fromisoformat(saved) - timedelta(days=2)).isoformat()
    for stream in CLAUDE_CODE:
        assert deduplicated(first.records(stream) + second.records(stream)) == deduplicated(reference.records(stream))


def test_a_stream_the_key_cannot_read_is_skipped_and_the_others_complete(organization, config) -> None:
    with FakeAdminApi(organization, unavailable={CLAUDE_CODE_PATH: 403, INVITES_PATH: 404}) as api:
        run = run_connector("read", {**config, "api_url": api.url},
                            configured_catalog("messages_usage", "claude_code_usage", "invites", "users"))

    assert run.exit_code == 0, run.errors()
    warnings = [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]
    assert any(w.startswith("Skipping claude_code_usage:") for w in warnings)
    assert any(w.startswith("Skipping invites:") for w in warnings)
    assert run.records("claude_code_usage") == run.records("invites") == []
    assert run.records("messages_usage") and run.records("users")
    assert len(expected_usage(organization, organization.day_range())) == len(run.records("messages_usage"))


def test_a_workspace_whose_members_are_refused_does_not_fail_the_sync(organization, config) -> None:
    """Given a stand-in that answers 400 for archived workspaces' members, when the dimension tables are read, then
    the sync succeeds with every other workspace's members and a warning naming each archived workspace."""
    with FakeAdminApi(organization, refuse_archived_members=True) as api:
        run = run_connector("read", {**config, "api_url": api.url},
                            configured_catalog(*DIRECTORY, sync_mode="full_refresh"))
        directory = api.directory

    assert run.exit_code == 0, run.errors()
    archived = directory.archived_workspace_ids()
    assert archived
    assert {(m["workspace_id"], m["user_id"]) for m in run.records("workspace_members")} == {
        (m["workspace_id"], m["user_id"]) for workspace_id, members in directory.members.items()
        if workspace_id not in archived for m in members}
    warnings = [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]
    for workspace_id in archived:
        assert any(w.startswith(f"Skipping the members of workspace {workspace_id}:") for w in warnings), warnings
    assert run.records("users") and run.records("workspaces")
