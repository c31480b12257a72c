"""The Claude Enterprise engagement streams through the installed `source-claude` command, against the stand-in's
seven engagement endpoints (Analytics key only, one row per entity and day, a day with over 1,000 active users, the
newest days not available yet, recent days revised).

Expectations are the stand-in's own rows for each day (`api.engagement.rows`), flattened here by the rule the issue
gives (`<parent>_<child>` at every depth, `date` added), never by the connector's code.
"""

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Tuple

import pytest

from integration_tests.connector_builder import builder_test_reads, problems_logged, records_read
from integration_tests.connector_cli import RUNTIMES, configured_catalog, run_connector
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, DEFAULT_ANALYTICS_KEY, FakeAdminApi
from integration_tests.ground_truth import days_from, on_one_day

# stream -> (endpoint, the fields that tell its rows of one day apart)
ENGAGEMENT = {
    "user_activity": ("users", ("user_id",)),
    "summaries": ("summaries", ()),
    "chat_projects": ("apps/chat/projects", ("project_id",)),
    "skills": ("skills", ("skill_name",)),
    "connectors": ("connectors", ("connector_name",)),
    "plugins": ("plugins", ("plugin_name",)),
    "artifacts": ("artifacts", ("artifact_type", "is_shared")),
}
ENGAGEMENT_PREFIX = "/v1/organizations/analytics/"
# Three weeks and a day: three Wednesdays, the stand-in's days with more than 1,000 active users.
DAYS = 22


def flat(row: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """A row as the issue says records look: nested objects as <parent>_<child> at every depth; numbers as the
    connector's output is parsed (Decimal for a fraction)."""
    out: Dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{name}_"))
        else:
            out[prefix + name] = Decimal(repr(value)) if isinstance(value, float) else value
    return out


def truth(api: FakeAdminApi, stream: str, day: date) -> List[Dict[str, Any]]:
    """The stand-in's rows of a day as records: flattened, with their date, and without null members (the CDK's
    message serializer omits them from every record; an absent column is null in every destination)."""
    endpoint, _ = ENGAGEMENT[stream]
    return [{**{name: value for name, value in flat(row).items() if value is not None}, "date": day.isoformat()}
            for row in api.engagement.rows(endpoint, day)]


def by_key(stream: str, records: List[Mapping[str, Any]]) -> Dict[Tuple, Mapping[str, Any]]:
    """What an Append + Deduped destination keeps: the last record of each primary key (date and the stream's key)."""
    _, key = ENGAGEMENT[stream]
    return {(record["date"], *(record[name] for name in key)): record for record in records}


def read(config, *streams, state=None, runtime="package"):
    return run_connector("read", config, configured_catalog(*streams), state, runtime=runtime)


@pytest.fixture(scope="module")
def enterprise(organization) -> FakeAdminApi:
    with FakeAdminApi(organization) as api:
        yield api


@pytest.fixture(scope="module")
def backfill(enterprise):
    """Every engagement stream, DAYS days back from the newest day the stand-in has."""
    enterprise.clear_log()
    first_day = enterprise.engagement.latest_day("users") - timedelta(days=DAYS - 1)
    config = {"admin_api_key": DEFAULT_ANALYTICS_KEY, "start_date": first_day.isoformat(), "api_url": enterprise.url}
    today, run = on_one_day(lambda: read(config, *ENGAGEMENT))
    return today, first_day, run, enterprise.api_requests()


def test_every_row_and_member_of_every_day_is_exact(backfill, enterprise) -> None:
    today, first_day, run, _ = backfill

    assert run.exit_code == 0, run.stderr
    for stream in ENGAGEMENT:
        last_day = min(enterprise.engagement.latest_day(ENGAGEMENT[stream][0]), today - timedelta(days=1))
        expected = [row for day in days_from(first_day, last_day) for row in truth(enterprise, stream, day)]
        records = run.records(stream)
        assert len(records) == len(expected), stream
        assert by_key(stream, records) == by_key(stream, expected), stream
    # The shapes the issue names, and what nobody documented, pass through flattened.
    users = run.records("user_activity")
    assert {"user_id", "user_email_address", "chat_metrics_message_count",
            "claude_code_metrics_core_metrics_lines_of_code_added_count"} <= set().union(*users)
    # A user without Claude Code (claude_code_metrics null) has none of its columns.
    assert any(not any(name.startswith("claude_code_metrics") for name in user) for user in users)


def test_one_request_per_day_and_page_and_none_past_the_newest_day(backfill, enterprise) -> None:
    today, first_day, _, requests = backfill
    latest = enterprise.engagement.latest_day("users")
    asked = [request for request in requests if request.path == ENGAGEMENT_PREFIX + "users"]

    assert all("starting_date" not in request.query and request.query["limit"] == ["1000"] for request in asked)
    pages = Counter(request.query["date"][0] for request in asked if request.status == 200)
    expected = {day.isoformat(): max(1, math.ceil(len(enterprise.engagement.rows("users", day)) / 1000))
                for day in days_from(first_day, latest)}
    assert pages == expected
    assert max(expected.values()) >= 2  # a day with more than 1,000 active users paged
    # The day after the newest is asked once, refused, and no later day is asked.
    refused = [request.query["date"][0] for request in asked if request.status != 200]
    assert refused == ([(latest + timedelta(days=1)).isoformat()] if latest < today - timedelta(days=1) else [])


def test_the_state_stops_at_the_newest_day_read(backfill, enterprise) -> None:
    today, _, run, _ = backfill
    states = {state["stream"]["stream_descriptor"]["name"]: state["stream"]["stream_state"]
              for state in run.final_states()}

    for stream, (endpoint, _) in ENGAGEMENT.items():
        newest = min(enterprise.engagement.latest_day(endpoint), today - timedelta(days=1))
        assert states[stream] == {"date": newest.isoformat()}, stream
        assert max(record["date"] for record in run.records(stream)) == newest.isoformat()
    assert not [log for log in run.of_type("LOG") if log["log"]["level"] in ("WARN", "ERROR")]


def test_an_incremental_sync_after_revisions_equals_the_revised_truth(organization) -> None:
    """Given a sync two days ago (the stand-in's clock set back) and one now from its state, Then the deduplicated
    union of both equals what the API serves now for every day, though it revised the recent days in between."""
    streams = ("user_activity", "summaries", "skills")
    now = datetime.now(timezone.utc)
    with FakeAdminApi(organization, clock=lambda: now - timedelta(days=2)) as api:
        first_day = api.engagement.latest_day("users") - timedelta(days=6)
        config = {"admin_api_key": DEFAULT_ANALYTICS_KEY, "start_date": first_day.isoformat(), "api_url": api.url}
        earlier = read(config, *streams)
        before = {stream: by_key(stream, earlier.records(stream)) for stream in streams}
        api.clock = lambda: now
        later = read(config, *streams, state=earlier.final_states())

        assert earlier.exit_code == 0 and later.exit_code == 0, later.stderr
        for stream in streams:
            last_day = min(api.engagement.latest_day(ENGAGEMENT[stream][0]), now.date() - timedelta(days=1))
            revised = by_key(stream, [row for day in days_from(first_day, last_day) for row in truth(api, stream, day)])
            assert {**before[stream], **by_key(stream, later.records(stream))} == revised, stream
            # The API did revise days the first sync had read: the second sync had something to correct.
            assert any(before[stream].get(key) not in (None, row) for key, row in revised.items()), stream


def test_an_admin_key_skips_the_engagement_streams_in_one_warning(enterprise) -> None:
    enterprise.clear_log()
    first_day = enterprise.engagement.latest_day("users") - timedelta(days=2)
    config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": first_day.isoformat(), "api_url": enterprise.url}
    run = read(config, *ENGAGEMENT)

    assert run.exit_code == 0, run.stderr
    assert run.records() == []
    warnings = [log["log"]["message"] for log in run.of_type("LOG") if log["log"]["level"] == "WARN"]
    assert len(warnings) == 1 and "Claude Enterprise engagement streams" in warnings[0], warnings
    assert not [request for request in enterprise.api_requests() if request.path.startswith(ENGAGEMENT_PREFIX)]


def test_every_runtime_reads_the_same_records(enterprise) -> None:
    """The package, the manifest-only runtime and the Connector Builder's test read (its first pages of each
    stream: every record it reads is the package's, whole)."""
    first_day = enterprise.engagement.latest_day("users") - timedelta(days=2)
    config = {"admin_api_key": DEFAULT_ANALYTICS_KEY, "start_date": first_day.isoformat(), "api_url": enterprise.url}
    _, (package, manifest_only, builder) = on_one_day(lambda: (
        read(config, *ENGAGEMENT), read(config, *ENGAGEMENT, runtime="manifest-only"),
        builder_test_reads(config, list(ENGAGEMENT))))

    assert package.exit_code == 0 and manifest_only.exit_code == 0, manifest_only.stderr
    for stream in ENGAGEMENT:
        assert package.records(stream) and manifest_only.records(stream) == package.records(stream), stream
        # The Builder shows null members, which the CLI's message serializer omits.
        tested = [{name: value for name, value in record.items() if value is not None}
                  for record in records_read(builder[stream])]
        assert problems_logged(builder[stream]) == [] and tested, stream
        synced = by_key(stream, package.records(stream))
        assert all(synced.get(key) == record for key, record in by_key(stream, tested).items()), stream
    assert manifest_only.final_states() == package.final_states()


def test_a_0_0_x_connection_resumes_each_kept_stream_at_its_saved_day_in_every_runtime(enterprise) -> None:
    """Given a 0.0.x config (the key as api_key, an end_date) and the states 0.0.x saved ({"date"}, and
    {"starting_date"} for summaries), Then the package and the manifest-only runtime ask each kept stream for its
    saved day less the default lookback (3 days) up to the day before end_date, none earlier, with the 0.0.x key;
    the Connector Builder's test read takes the config too."""
    kept = ("chat_projects", "skills", "connectors", "summaries")
    end = min(enterprise.engagement.latest_day(ENGAGEMENT[stream][0]) for stream in kept)
    saved = end - timedelta(days=5)
    config = {"api_key": DEFAULT_ANALYTICS_KEY, "start_date": f"{saved - timedelta(days=6)}", "end_date": f"{end}",
              "api_url": enterprise.url}
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": {
        "starting_date" if stream == "summaries" else "date": saved.isoformat()}}} for stream in kept]

    def days_asked() -> Dict[str, List[str]]:
        # The days each stream asked for; summaries over one day, as the key probe asks for no ending_date.
        asked = {stream: sorted({request.query.get("date", request.query.get("starting_date"))[0]
                                 for request in enterprise.api_requests()
                                 if request.path == ENGAGEMENT_PREFIX + ENGAGEMENT[stream][0]
                                 and (stream != "summaries" or "ending_date" in request.query)}) for stream in kept}
        assert {request.headers["x-api-key-kind"] for request in enterprise.api_requests()} == {"analytics"}
        enterprise.clear_log()
        return asked

    def every_runtime():
        enterprise.clear_log()
        runs = [(read(config, *kept, state=state, runtime=runtime), days_asked()) for runtime in RUNTIMES]
        return runs, builder_test_reads(config, list(kept))

    _, (runs, builder) = on_one_day(every_runtime)

    expected_days = [day.isoformat() for day in days_from(saved - timedelta(days=3), end - timedelta(days=1))]
    (package, package_days), (manifest_only, manifest_only_days) = runs
    assert package.exit_code == 0 and manifest_only.exit_code == 0, manifest_only.stderr
    assert package_days == manifest_only_days == {stream: expected_days for stream in kept}
    assert manifest_only.records() == package.records()
    for stream in kept:
        assert {record["date"] for record in package.records(stream)} == set(expected_days), stream
        assert problems_logged(builder[stream]) == [] and records_read(builder[stream]), stream
    assert manifest_only.final_states() == package.final_states()
    assert [state["stream"]["stream_state"] for state in package.final_states()] == [
        {"date": (end - timedelta(days=1)).isoformat()}] * len(kept)
