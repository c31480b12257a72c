"""Rows the API returns outside what was asked for, for the report and Claude Code streams.

What the manifest promises:
- a report request asks for the buckets of [starting_at, ending_at): a bucket that starts outside it is dropped,
  with one warning per stream, so no record lies before start_date or beyond the window and state never moves
  past days that were not read;
- a Claude Code request asks for one day: a record with `date: null` is that day's (and keyed by it), a record
  dated another day is dropped with one warning per stream.
"""

from typing import List

import freezegun
import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    ONE_ROW_OF,
    bucket,
    claude_code_record,
    claude_code_request,
    config,
    page,
    whole_window,
    read_stream,
    records_of,
)



@pytest.fixture(autouse=True)
def frozen_now():
    with freezegun.freeze_time("2025-03-10T12:00:00Z"):
        yield


def warnings_of(output: EntrypointOutput) -> List[str]:
    return [log.log.message for log in output.logs if log.log.level.value == "WARN"]


@pytest.mark.parametrize("stream", list(ONE_ROW_OF))
def test_buckets_outside_the_requested_window_are_dropped_with_one_warning(stream: str) -> None:
    """Given a window [03-08, 03-10) answered with buckets of 03-07, 03-08, 03-10 and 03-11, Then only 03-08 is
    emitted, the state is the window's own last day (03-09), and one
    warning names the first bucket dropped."""
    with HttpMocker() as http_mocker:
        http_mocker.get(*whole_window(stream, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z",
                                      *(bucket(day, ONE_ROW_OF[stream])
                                        for day in ("2025-03-07", "2025-03-08", "2025-03-10", "2025-03-11"))))

        output = read_stream(stream, config(start_date="2025-03-08"))

    assert [r["starting_at"] for r in records_of(output)] == ["2025-03-08T00:00:00Z"]
    assert output.most_recent_state.stream_state.__dict__ == {"starting_at": "2025-03-09T00:00:00Z"}
    [warning] = warnings_of(output)
    assert warning.startswith("Dropped the bucket of 2025-03-07T00:00:00Z, which the Anthropic Admin API returned "
                              "for a request of 2025-03-08T00:00:00Z to 2025-03-10T00:00:00Z"), warning


def test_a_claude_code_record_without_a_date_is_the_day_asked_for() -> None:
    """Given the same person's record on two days, both with `date: null`, Then each is dated the day its request
    asked for, and the two have different row_keys (a null date would give them one)."""
    with HttpMocker() as http_mocker:
        for day in ("2025-03-09", "2025-03-10"):
            http_mocker.get(claude_code_request(day), page(claude_code_record(day, date=None)))

        output = read_stream("claude_code_usage", config(start_date="2025-03-09"), sync_mode=SyncMode.full_refresh)

    records = records_of(output)
    assert [r["date"] for r in records] == ["2025-03-09", "2025-03-10"]
    assert len({r["row_key"] for r in records}) == 2
    assert warnings_of(output) == []


@pytest.mark.parametrize("stream", ["claude_code_usage", "claude_code_model_usage"])
def test_a_claude_code_record_of_another_day_is_dropped_with_one_warning(stream: str) -> None:
    model = {"model": "m", "tokens": {"input": 1, "output": 1, "cache_read": 0, "cache_creation": 0},
             "estimated_cost": {"amount": 1, "currency": "USD"}}
    with HttpMocker() as http_mocker:
        http_mocker.get(claude_code_request("2025-03-10"), page(
            claude_code_record("2025-03-10", model_breakdown=[model]),
            claude_code_record("2025-03-09", terminal_type="ghostty", model_breakdown=[model]),
            claude_code_record("2025-03-11", terminal_type="cursor", model_breakdown=[model])))

        output = read_stream(stream, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh)

    assert [(r["date"], r["terminal_type"]) for r in records_of(output)] == [("2025-03-10", "vscode")]
    [warning] = warnings_of(output)
    assert warning.startswith("Dropped a Claude Code record dated 2025-03-09, which the Anthropic Admin API "
                              "returned for a request of 2025-03-10"), warning
