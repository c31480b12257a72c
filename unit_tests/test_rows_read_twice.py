"""An item the API sends twice in one slice (a report window, a Claude Code day, a list, an analytics window), in one
page or in two: the one rule for every stream.

- the same item again (same key, same values) is emitted once, with one warning per stream: emitting it twice
  would count its tokens or cents twice;
- the same key with other values is a contradiction: the sync stops in one sentence rather than double the row or
  pick one of its values, and the state stays before the window.
"""

import json
from typing import Any, Dict, List

import freezegun
import pytest

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from unit_tests.builders import (
    bucket,
    claude_code_record,
    claude_code_request,
    config,
    cost_row,
    hourly_bucket,
    list_page,
    list_request,
    page,
    read_stream,
    records_of,
    report_request,
    usage_row,
)
from unit_tests.test_analytics_streams import USAGE, analytics_page, analytics_request, row

ROWS = {"messages_usage": lambda n: usage_row(output_tokens=n, model=f"model-{n}"),
        "cost_report": lambda n: cost_row(str(n), description=f"cost {n}")}
WINDOW = ("2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z")
daily_reports = pytest.mark.parametrize("stream", list(ROWS))


@pytest.fixture(autouse=True)
def frozen_now():
    with freezegun.freeze_time("2025-03-10T12:00:00Z"):
        yield


def warnings_of(output: EntrypointOutput) -> List[str]:
    return [log.log.message for log in output.logs if log.log.level.name == "WARN"]


def read_report(stream: str, response: HttpResponse, expecting_exception: bool = False) -> EntrypointOutput:
    with HttpMocker() as http_mocker:
        http_mocker.get(report_request(stream, *WINDOW), response)
        return read_stream(stream, config(start_date="2025-03-08"), expecting_exception=expecting_exception)


def assert_each_key_once(output: EntrypointOutput, key: str = "row_key") -> None:
    keys = [record[key] for record in records_of(output)]
    assert len(keys) == len(set(keys)), keys


@daily_reports
def test_a_bucket_sent_twice_is_emitted_once_with_one_warning(stream: str) -> None:
    """Given a page holding the bucket of 03-08 twice, When reading, Then its rows are emitted once, the sync
    succeeds with one warning, and the state moves on."""
    row = ROWS[stream]
    output = read_report(stream, page(bucket("2025-03-08", row(1), row(2)), bucket("2025-03-08", row(1), row(2)),
                                      bucket("2025-03-09", row(3))))

    assert len(records_of(output)) == 3
    assert_each_key_once(output)
    [warning] = [w for w in warnings_of(output) if "second copy" in w]
    assert "the bucket of 2025-03-08T00:00:00Z" in warning and f"{stream} emits each row once" in warning
    assert output.most_recent_state.stream_state.starting_at == "2025-03-09T00:00:00Z"


@daily_reports
def test_a_row_sent_twice_in_a_bucket_is_emitted_once(stream: str) -> None:
    row = ROWS[stream]
    output = read_report(stream, page(bucket("2025-03-08", row(1), row(1)), bucket("2025-03-09")))

    assert len(records_of(output)) == 1
    assert any("second copy of a row of the bucket of 2025-03-08T00:00:00Z" in w for w in warnings_of(output))


@daily_reports
@pytest.mark.parametrize("second_copy", ["other values", "no rows", "a row with other values"])
def test_a_bucket_sent_twice_with_different_values_stops_the_sync(stream: str, second_copy: str) -> None:
    """Given the bucket of 03-08 twice with different numbers (or once empty), When reading, Then the sync stops
    in one sentence, and the state is not moved past the window: neither copy is picked, nothing is doubled."""
    row = ROWS[stream]
    copies = {"other values": bucket("2025-03-08", row(1), row(3)), "no rows": bucket("2025-03-08"),
              "a row with other values": bucket("2025-03-08", row(1), {**row(1), "output_tokens": 99} if
                                                stream == "messages_usage" else {**row(1), "amount": "7"})}
    first = bucket("2025-03-08", row(1))
    if second_copy == "a row with other values":  # the contradiction is inside one bucket
        output = read_report(stream, page(copies[second_copy], bucket("2025-03-09")), expecting_exception=True)
    else:
        output = read_report(stream, page(first, copies[second_copy], bucket("2025-03-09")),
                             expecting_exception=True)

    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.transient_error
    assert "twice for /v1/organizations/" in error.message and "with different values" in error.message
    assert "rather than count it twice or pick one" in error.message
    # The sync's start at the latest: the next sync reads the window again.
    assert {message.state.stream.stream_state.starting_at for message in output.state_messages} <= {WINDOW[0]}


def test_an_hour_sent_twice_is_emitted_once() -> None:
    """messages_usage_hourly follows the same rule (its pages hold up to 168 hourly buckets)."""
    hour_row = usage_row(output_tokens=5)
    with HttpMocker() as http_mocker:
        http_mocker.get(report_request("messages_usage_hourly", "2025-03-10T10:00:00Z", "2025-03-10T12:00:00Z"),
                        page(hourly_bucket("2025-03-10T10", hour_row), hourly_bucket("2025-03-10T10", hour_row),
                             hourly_bucket("2025-03-10T11")))
        output = read_stream("messages_usage_hourly", config(hourly_start_date="2025-03-10T10:00:00Z"),
                             sync_mode=SyncMode.full_refresh)

    assert len(records_of(output)) == 1


def test_a_claude_code_record_sent_on_two_pages_is_emitted_once() -> None:
    """Given day 03-10's second page repeating a record of its first (and adding one), When reading, Then each
    record is emitted once."""
    one, two = (claude_code_record("2025-03-10", terminal_type=terminal) for terminal in ("vscode", "cursor"))
    with HttpMocker() as http_mocker:
        http_mocker.get(claude_code_request("2025-03-10"), page(one, next_page="page_2"))
        http_mocker.get(claude_code_request("2025-03-10", page="page_2"), page(one, two))
        output = read_stream("claude_code_usage", config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh)

    assert sorted(record["terminal_type"] for record in records_of(output)) == ["cursor", "vscode"]


def test_a_user_sent_on_two_pages_is_emitted_once() -> None:
    users = [{"id": f"user_{n}", "email": f"person{n}@example.com", "type": "user"} for n in (1, 2)]
    with HttpMocker() as http_mocker:
        http_mocker.get(list_request("/v1/organizations/users"), list_page(users[0], has_more=True))
        http_mocker.get(list_request("/v1/organizations/users", after_id="user_1"), list_page(users[0], users[1]))
        output = read_stream("users", config(), sync_mode=SyncMode.full_refresh)

    assert [record["id"] for record in records_of(output)] == ["user_1", "user_2"]
    assert any("second copy of user_1" in w for w in warnings_of(output))


@freezegun.freeze_time("2026-03-10T12:00:00Z")
def test_an_analytics_row_sent_twice_with_different_values_stops_the_sync() -> None:
    """The analytics streams dropped every later copy of a row, whatever its values: now, as for every stream, a copy
    with other values stops the sync instead of being silently dropped."""
    usage_row_of = row("2026-03-08", "usage", USAGE, model="claude-opus-5")
    other = row("2026-03-08", "usage", {**USAGE, "output_tokens": 51}, model="claude-opus-5")
    with HttpMocker() as http_mocker:
        http_mocker.get(analytics_request("usage_analytics"), analytics_page(usage_row_of, other))
        output = read_stream("usage_analytics", config(start_date="2026-03-08"), sync_mode=SyncMode.full_refresh,
                             expecting_exception=True)

    assert "a row of 2026-03-08T00:00:00Z twice" in output.errors[0].trace.error.message
