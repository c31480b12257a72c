"""The Claude Enterprise engagement streams, request by request: one day per request, the day a row counts, and the
refusal of a day the API has not finished, whatever order its message names the days in; and a 0.0.x connection's
config and saved states."""

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

import freezegun
import pytest
import yaml

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from source_claude import SourceClaude
from source_claude.source import MANIFEST
from unit_tests.builders import API_URL, api_error, config, read_stream, records_of

ANALYTICS_KEY = "sk-ant-api01-unit-test-analytics-key"
TODAY = "2026-03-10"
CONFIG = config(admin_api_key=ANALYTICS_KEY, start_date="2026-03-06", engagement_lookback_window_days=0)


# The question what the key reads: an engagement summary of the API's first day.
PROBE = HttpRequest(f"{API_URL}/v1/organizations/analytics/summaries", query_params={"starting_date": "2026-01-01"})


def users_request(day: str, page: Optional[str] = None) -> HttpRequest:
    query = {"date": day, "limit": "1000", **({"page": page} if page else {})}
    return HttpRequest(f"{API_URL}/v1/organizations/analytics/users", query_params=query)


def users_page(*rows: Dict[str, Any], next_page: Optional[str] = None) -> HttpResponse:
    return HttpResponse(json.dumps({"data": list(rows), "next_page": next_page}), 200)


def user(user_id: str, messages: int) -> Dict[str, Any]:
    return {"user": {"id": user_id, "email_address": f"{user_id}@example.com"},
            "chat_metrics": {"message_count": messages},
            "claude_code_metrics": {"core_metrics": {"lines_of_code": {"added_count": 3}}}}


def states_of(output) -> List[Dict[str, Any]]:
    return [message.state.stream.stream_state.__dict__ for message in output.state_messages]


@freezegun.freeze_time(f"{TODAY}T12:00:00Z")
@pytest.mark.parametrize("refusal", [
    "Data for 2026-03-08 is not available yet. The latest available date is 2026-03-07.",
    "The latest available date is 2026-03-07; 2026-03-08 is not available yet.",
    "date must be on or before 2026-03-07",
])
def test_a_day_not_finished_ends_the_days_read_at_the_one_the_refusal_names(refusal: str) -> None:
    """Given days 03-06 and 03-07 answered and 03-08 refused (HTTP 400) naming 03-07 as the latest, Then the rows of
    the first two days are read, 03-09 is never asked for, and the state stops at 03-07 for the next sync."""
    with HttpMocker() as http_mocker:
        http_mocker.get(PROBE, users_page())
        http_mocker.get(users_request("2026-03-06"), users_page(user("user_a", 5)))
        http_mocker.get(users_request("2026-03-07"), users_page(user("user_a", 7), next_page="p2"))
        http_mocker.get(users_request("2026-03-07", page="p2"), users_page(user("user_b", 1)))
        http_mocker.get(users_request("2026-03-08"), api_error(400, "invalid_request_error", refusal))
        output = read_stream("user_activity", CONFIG)

    records = records_of(output)
    assert [(r["date"], r["user_id"], r["chat_metrics_message_count"]) for r in records] == [
        ("2026-03-06", "user_a", 5), ("2026-03-07", "user_a", 7), ("2026-03-07", "user_b", 1)]
    assert records[0]["claude_code_metrics_core_metrics_lines_of_code_added_count"] == 3
    assert states_of(output)[-1] == {"date": "2026-03-07"}
    assert not [log for log in output.logs if log.log.level.value in ("WARN", "ERROR")]


@freezegun.freeze_time(f"{TODAY}T12:00:00Z")
def test_another_400_still_fails_the_stream_with_the_api_s_message() -> None:
    """A 400 that names no day before the one asked is not the API saying the day is not ready."""
    with HttpMocker() as http_mocker:
        http_mocker.get(PROBE, users_page())
        http_mocker.get(users_request("2026-03-06"), api_error(400, "invalid_request_error", "limit: Input should be "
                                                                                            "between 1 and 1000"))
        output = read_stream("user_activity", CONFIG, expecting_exception=True)

    assert records_of(output) == []
    assert "limit: Input should be between 1 and 1000" in output.errors[0].trace.error.message


@freezegun.freeze_time(f"{TODAY}T12:00:00Z")
def test_summaries_ask_one_day_at_a_time_and_date_each_row_by_its_start() -> None:
    with HttpMocker() as http_mocker:
        http_mocker.get(PROBE, users_page())
        for day, next_day, active in (("2026-03-06", "2026-03-07", 10), ("2026-03-07", "2026-03-08", 12),
                                      ("2026-03-08", "2026-03-09", 11), ("2026-03-09", "2026-03-10", 9)):
            http_mocker.get(
                HttpRequest(f"{API_URL}/v1/organizations/analytics/summaries",
                            query_params={"starting_date": day, "ending_date": next_day}),
                users_page({"starting_at": f"{day}T00:00:00Z", "ending_at": f"{next_day}T00:00:00Z",
                            "daily_active_user_count": active, "daily_adoption_rate": 0.25}))
        output = read_stream("summaries", CONFIG)

    assert [(r["date"], r["daily_active_user_count"]) for r in records_of(output)] == [
        ("2026-03-06", 10), ("2026-03-07", 12), ("2026-03-08", 11), ("2026-03-09", 9)]
    assert states_of(output)[-1] == {"date": "2026-03-09"}


# A connection made with 0.0.x: its config (the key named api_key, dates without a time) and its saved states, in
# the shapes 0.0.x wrote them.
CONFIG_0_0_X = {"api_key": ANALYTICS_KEY, "start_date": "2026-01-01", "end_date": "2026-03-09"}
STATE_0_0_X = {"chat_projects": {"date": "2026-03-07"}, "skills": {"date": "2026-03-06"},
               "connectors": {"date": "2026-03-05"}, "summaries": {"starting_date": "2026-03-07"}}
PATHS = {"chat_projects": "apps/chat/projects", "skills": "skills", "connectors": "connectors",
         "summaries": "summaries"}


def source_in(runtime: str, configured: Any, state: Any) -> Any:
    """The source as the package builds it, or as the manifest-only runtime does (the manifest alone)."""
    if runtime == "package":
        return SourceClaude(catalog=configured, config=CONFIG_0_0_X, state=state)
    manifest = yaml.safe_load(Path(MANIFEST).read_text())
    return ConcurrentDeclarativeSource(source_config=manifest, catalog=configured, config=CONFIG_0_0_X, state=state)


def day_request(stream: str, day: str) -> HttpRequest:
    following = f"{date.fromisoformat(day) + timedelta(days=1)}"
    query = ({"starting_date": day, "ending_date": following} if stream == "summaries"
             else {"date": day, "limit": "1000"})
    return HttpRequest(f"{API_URL}/v1/organizations/analytics/{PATHS[stream]}", query_params=query,
                       headers={"x-api-key": ANALYTICS_KEY})


@freezegun.freeze_time(f"{TODAY}T12:00:00Z")
@pytest.mark.parametrize("runtime", ["package", "manifest-only"])
def test_a_0_0_x_connection_resumes_each_stream_at_its_saved_day_less_the_lookback(runtime: str) -> None:
    """Given a 0.0.x config (start_date 2026-01-01) and state, Then each kept stream asks, with the 0.0.x key, for
    its saved day less the default lookback of 3 days, up to the day before end_date, and for no other day."""
    configured = CatalogBuilder()
    states = StateBuilder()
    for stream, saved in STATE_0_0_X.items():
        configured = configured.with_stream(stream, SyncMode.incremental)
        states = states.with_stream_state(stream, saved)
    configured, states = configured.build(), states.build()
    with HttpMocker() as http_mocker:  # each request mocked must be sent, and none other is answered
        http_mocker.get(PROBE, users_page())
        for stream, saved in STATE_0_0_X.items():
            saved_day = date.fromisoformat(next(iter(saved.values())))
            for offset in range(-3, (date(2026, 3, 8) - saved_day).days + 1):
                day = f"{saved_day + timedelta(days=offset)}"
                http_mocker.get(day_request(stream, day), users_page(
                    {"starting_at": f"{day}T00:00:00Z", "daily_active_user_count": 4} if stream == "summaries" else
                    {"skill_name": "pdf", "connector_name": "drive", "project_id": "claude_proj_1"}))
        output = read(source_in(runtime, configured, states), CONFIG_0_0_X, configured, states)

    assert not output.errors, output.errors[0].trace.error.internal_message
    assert {message.record.stream for message in output.records} == set(STATE_0_0_X)
    assert min(message.record.data["date"] for message in output.records
               if message.record.stream == "summaries") == "2026-03-04"
    assert {message.state.stream.stream_descriptor.name: message.state.stream.stream_state.__dict__
            for message in output.state_messages} == {stream: {"date": "2026-03-08"} for stream in STATE_0_0_X}
