"""The Claude Enterprise engagement streams, request by request: one day per request, the day a row counts, and the
refusal of a day the API has not finished, whatever order its message names the days in."""

import json
from typing import Any, Dict, List, Optional

import freezegun
import pytest

from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

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
