"""docs/claude.md's table of behaviour by runtime is true: each behaviour is tried in each runtime against the
stand-in, and whether it holds must be what the table's cell says (yes, or no: why). A row without a probe here
fails, so the table cannot grow untested."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict, Mapping

import pytest

from integration_tests.connector_builder import builder_test_read, records_read
from integration_tests.connector_cli import configured_catalog, run_connector
from integration_tests.fake_admin_api import (CLAUDE_CODE_PATH, COST_PATH, DEFAULT_ANALYTICS_KEY, USAGE_PATH,
                                              FakeAdminApi)
from integration_tests.ground_truth import analytics_days, on_one_day

DOCS = Path(__file__).resolve().parent.parent / "docs" / "claude.md"
COLUMNS = {"Python package": "package", "Manifest-only": "manifest-only", "Connector Builder": "builder"}


def documented_table() -> Dict[str, Dict[str, str]]:
    """Behaviour -> runtime -> cell, from the table under "Where it runs"."""
    section = DOCS.read_text().split("### Where it runs", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("|")]
    header, _, *body = rows
    runtimes = [COLUMNS[name] for name in header[1:]]
    return {row[0]: dict(zip(runtimes, row[1:])) for row in body}


def read(api: FakeAdminApi, runtime: str, config: Mapping[str, Any], *streams: str, **options: Any):
    api.clear_log()
    if runtime == "builder":
        return builder_test_read(config, streams[0])
    return run_connector("read", config, configured_catalog(*streams, sync_mode=options.pop("sync_mode",
                                                                                             "incremental")),
                         runtime=runtime, **options)


def error_messages(outcome) -> str:
    if isinstance(outcome, dict):  # a Builder answer
        return outcome.get("trace", {}).get("error", {}).get("message", "")
    return " ".join(error["message"] for error in outcome.errors())


def refused_in_one_sentence(overrides: Mapping[str, Any], sentence: str) -> Callable[..., bool]:
    def probe(api, runtime, config) -> bool:
        outcome = read(api, runtime, {**config, **overrides}, "messages_usage")
        return sentence in error_messages(outcome) and api.api_requests() == []
    return probe


def check_reads_the_last_whole_day(api, runtime, config) -> bool:
    api.clear_log()
    run_connector("check", config, runtime=runtime)
    starts = [request.query["starting_at"][0] for request in api.api_requests(USAGE_PATH)]
    return len(starts) == 1 and starts[0] > f"{api.organization.first_day}"


def check_fails_with_the_stream_s_sentence(api, runtime, config) -> bool:
    check = run_connector("check", {**config, "admin_api_key": "sk-ant-admin01-revoked"}, runtime=runtime)
    return check.connection_status()["message"].startswith("Anthropic rejected the Admin API key (HTTP 401")


def cost_state(api, cursor: Any) -> list:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "cost_report"},
                                          "stream_state": {"starting_at": cursor}}}]


def an_unreadable_cursor_is_refused(api, runtime, config) -> bool:
    run = read(api, runtime, config, "cost_report", state=cost_state(api, "last tuesday"))
    return "The saved state of cost_report has starting_at 'last tuesday'" in error_messages(run)


def a_global_state_resumes(api, runtime, config) -> bool:
    saved = f"{api.organization.last_day - timedelta(days=5)}T00:00:00Z"
    state = [{"type": "GLOBAL", "global": {"shared_state": {"cdc": "no"}, "stream_states": [
        {"stream_descriptor": {"name": "cost_report"}, "stream_state": {"starting_at": saved}}]}}]
    run = read(api, runtime, config, "cost_report", state=state)
    return run.exit_code == 0 and min(r.query["starting_at"][0] for r in api.api_requests(COST_PATH)) < saved


def full_refresh_ignores_state(api, runtime, config) -> bool:
    saved = f"{api.organization.last_day - timedelta(days=5)}T00:00:00Z"
    run = read(api, runtime, config, "cost_report", sync_mode="full_refresh", state=cost_state(api, saved))
    first = min(request.query["starting_at"][0] for request in api.api_requests(COST_PATH))
    return run.exit_code == 0 and first.startswith(config["start_date"])


def an_unknown_stream_is_refused(api, runtime, config) -> bool:
    run = read(api, runtime, config, "cost_report", "invoices")
    return run.exit_code != 0 and "The catalog asks for invoices" in error_messages(run) and run.records() == []


def claude_code_pages_are_shared(api, runtime, config) -> bool:
    days = {f"{api.organization.first_day + timedelta(days=n)}" for n in range(3)}
    recent = {**config, "start_date": min(days), "end_date": f"{max(days)}T23:59:59Z"}
    run = read(api, runtime, recent, "claude_code_usage", "claude_code_model_usage")
    requested = [request.query["starting_at"][0] for request in api.api_requests(CLAUDE_CODE_PATH)]
    return run.exit_code == 0 and len(requested) == len(set(requested))


def analytics_key_config(api, config) -> Dict[str, Any]:
    return {**config, "admin_api_key": DEFAULT_ANALYTICS_KEY,
            "start_date": f"{api.organization.last_day - timedelta(days=5)}"}


def an_analytics_key_skips_the_admin_api_streams(api, runtime, config) -> bool:
    analytics = analytics_key_config(api, config)
    skipped_warning = "Skipping messages_usage: this key reads only the Analytics APIs"
    if runtime == "builder":
        skipped = builder_test_read(analytics, "messages_usage")
        today, read_ = on_one_day(lambda: builder_test_read(analytics, "cost_analytics"))
        warnings = [log["message"] for log in skipped["record"]["data"]["logs"] if log["level"] == "WARN"]
        streams = {"cost_analytics"} if records_read(read_) else set()
    else:
        today, run = on_one_day(lambda: read(api, runtime, analytics, "messages_usage", "cost_analytics"))
        if run.exit_code != 0:
            return False
        warnings = [log["log"]["message"] for log in run.of_type("LOG") if log["log"]["level"] == "WARN"]
        streams = {message["record"]["stream"] for message in run.of_type("RECORD")}
    readable = analytics_days(api.organization, api.organization.last_day - timedelta(days=5), today)
    return (streams == ({"cost_analytics"} if readable else set())
            and sum(warning.startswith(skipped_warning) for warning in warnings) == 1)


def check_says_which_streams_the_key_reads(api, runtime, config) -> bool:
    check = run_connector("check", analytics_key_config(api, config), runtime=runtime)
    status = check.connection_status()
    return status["status"] == "SUCCEEDED" and (status.get("message") or "").startswith(
        "This key reads usage_analytics, cost_analytics, user_activity, summaries, chat_projects, skills, connectors, "
        "plugins, artifacts; a sync skips messages_usage,")


def records_are_read_and_written_on_one_thread(api, runtime, config) -> bool:
    run = read(api, runtime, config, "messages_usage", "cost_report", "workspace_members")
    # Besides the one that reads and writes records, the manifest's api_budget (max_requests_per_minute) keeps its
    # rate limiter's own thread, which wakes every two minutes to forget old requests and touches no record.
    return run.exit_code == 0 and run.most_threads == 1 + 1


def a_0_0_x_config_reads(api, runtime, config) -> bool:
    """A config saved by 0.0.x: the key named api_key (an Analytics key), no admin_api_key."""
    saved = {"api_key": DEFAULT_ANALYTICS_KEY, "api_url": config["api_url"],
             "start_date": f"{api.engagement.latest_day('skills') - timedelta(days=1)}"}
    outcome = read(api, runtime, saved, "skills")
    if runtime == "builder":
        return bool(records_read(outcome))
    return outcome.exit_code == 0 and bool(outcome.records("skills"))


PROBES = {
    "A config mistake the spec's JSON schema lets through (a key pasted with a line break) is refused in one sentence":
        refused_in_one_sentence({"admin_api_key": "sk-ant-admin01-abcdef\n"}, "admin_api_key has spaces or line breaks"),
    "A number out of range (`lookback_window_days` 90) is refused in the field's own sentence":
        refused_in_one_sentence({"lookback_window_days": 90}, "lookback_window_days must be a whole number of days"),
    "An `end_date` not after `start_date` is refused in one sentence":
        refused_in_one_sentence({"end_date": "2000-01-01"}, "end_date 2000-01-01 is not after start_date"),
    "`check` reads only the last whole day": check_reads_the_last_whole_day,
    "`check` fails with the stream's own sentence": check_fails_with_the_stream_s_sentence,
    "A saved cursor that is not a date is refused in one sentence": an_unreadable_cursor_is_refused,
    "A GLOBAL state resumes each stream from its cursor": a_global_state_resumes,
    "A stream read in full refresh ignores its saved state": full_refresh_ignores_state,
    "A catalog naming a stream the source lacks is refused": an_unknown_stream_is_refused,
    "The two Claude Code streams share each day's pages": claude_code_pages_are_shared,
    "An Analytics API key reads the analytics streams and skips each other stream with one warning":
        an_analytics_key_skips_the_admin_api_streams,
    "`check` with an Analytics API key says which streams it reads": check_says_which_streams_the_key_reads,
    "Records are read and written on one thread": records_are_read_and_written_on_one_thread,
    "A config saved by version 0.0.x (its key as `api_key`) is read": a_0_0_x_config_reads,
}
TABLE = documented_table()


def test_every_row_has_a_probe() -> None:
    assert set(TABLE) == set(PROBES)


@pytest.mark.parametrize("behaviour", list(TABLE))
def test_the_table_says_what_each_runtime_does(behaviour, api, config) -> None:
    for runtime, cell in TABLE[behaviour].items():
        if cell == "—":
            continue
        assert re.match(r"^(yes|no: .+)$", cell), f"{behaviour} / {runtime}: {cell!r} is neither yes nor no: why"
        assert PROBES[behaviour](api, runtime, config) == (cell == "yes"), f"{behaviour} / {runtime}: {cell}"
