"""Error handling, for both report streams: what fails, with which message and failure type, and what is retried.

- 401 and 403 fail as config errors that say which key is needed; 404 points at api_url;
- 400 fails with the API's own message;
- 429 waits for retry-after (+1 s, the CDK's margin), or backs off exponentially without it;
- 500, 502, 503, 504 and 529 back off exponentially, at most five retries;
- a 200 whose body is not a whole report page is fetched again, never read as an empty page;
- the Admin key appears in no message, whatever fails;
- the stream's error ends saying the next sync resumes an incremental stream, and reads a full refresh again in full.
"""

from typing import List, Tuple
from unittest.mock import patch

import json

import freezegun
import pytest

from airbyte_cdk.models import AirbyteMessageSerializer, FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from unit_tests.builders import (
    ONE_ROW_OF,
    ADMIN_KEY,
    api_error,
    bucket,
    claude_code_record,
    claude_code_request,
    config,
    page,
    window_page,
    read_stream,
    records_of,
    report_request,
    usage_row,
)

WINDOW = ("2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z")
both_streams = pytest.mark.parametrize("stream", list(ONE_ROW_OF))
@pytest.fixture(autouse=True)
def frozen_now():
    with freezegun.freeze_time("2025-03-10T12:00:00Z"):
        yield


def read_once(stream: str, responses, expecting_exception: bool = False) -> Tuple[EntrypointOutput, List[float]]:
    """Serves `responses` in order to the stream's one window; returns the output and the waits (sleep patched)."""
    with HttpMocker() as http_mocker, patch("time.sleep") as sleep:
        http_mocker.get(report_request(stream, *WINDOW), responses)
        output = read_stream(stream, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh,
                             expecting_exception=expecting_exception)
    waits = [call.args[0] for call in sleep.call_args_list if call.args and call.args[0] >= 1]
    return output, waits


def first_error(output: EntrypointOutput):
    return output.errors[0].trace.error


def assert_key_never_shown(output: EntrypointOutput) -> None:
    for message in output.get_message_iterator():
        assert ADMIN_KEY not in str(AirbyteMessageSerializer.dump(message))


@both_streams
def test_401_is_a_config_error_naming_the_admin_key(stream: str) -> None:
    output, _ = read_once(stream, api_error(401, "authentication_error", "invalid x-api-key"), expecting_exception=True)

    error = first_error(output)
    assert error.failure_type == FailureType.config_error
    assert "rejected the Admin API key (HTTP 401: invalid x-api-key)" in error.message
    assert "sk-ant-admin" in error.message
    assert records_of(output) == []
    assert_key_never_shown(output)


@both_streams
def test_403_is_a_config_error_saying_regular_keys_cannot_read_reports(stream: str) -> None:
    output, _ = read_once(stream, api_error(403, "permission_error", "not allowed"), expecting_exception=True)

    error = first_error(output)
    assert error.failure_type == FailureType.config_error
    assert "Regular API keys (sk-ant-api...) cannot" in error.message
    assert_key_never_shown(output)


@both_streams
def test_404_points_at_api_url(stream: str) -> None:
    output, _ = read_once(stream, api_error(404, "not_found_error", "Not found"), expecting_exception=True)

    error = first_error(output)
    assert error.failure_type == FailureType.config_error
    assert "Check that api_url is the Anthropic API" in error.message


@both_streams
def test_400_fails_with_the_api_message(stream: str) -> None:
    message = "Cannot specify more than 5 group_by[] dimensions."
    output, _ = read_once(stream, api_error(400, "invalid_request_error", message), expecting_exception=True)

    assert message in first_error(output).message
    assert records_of(output) == []
    assert_key_never_shown(output)


@both_streams
def test_429_waits_for_retry_after(stream: str) -> None:
    output, waits = read_once(stream, [
        api_error(429, "rate_limit_error", "slow down", {"retry-after": "30"}),
        window_page(stream, *WINDOW, bucket("2025-03-08", ONE_ROW_OF[stream])),
    ])

    assert waits == [31]
    assert len(records_of(output)) == 1


@both_streams
def test_429_without_retry_after_backs_off_exponentially(stream: str) -> None:
    output, waits = read_once(stream, [
        api_error(429, "rate_limit_error", "slow down"),
        api_error(429, "rate_limit_error", "slow down"),
        window_page(stream, *WINDOW, bucket("2025-03-08", ONE_ROW_OF[stream])),
    ])

    assert waits == [3, 5]
    assert len(records_of(output)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529])
def test_server_errors_are_retried_with_backoff(status: int) -> None:
    output, waits = read_once("messages_usage", [api_error(status, "api_error", "boom")] * 3 + [
        window_page("messages_usage", *WINDOW, bucket("2025-03-08", usage_row(output_tokens=9)))
    ])

    assert waits == [3, 5, 9]
    assert [r["output_tokens"] for r in records_of(output)] == [9]


def test_retries_are_bounded() -> None:
    """Given a 503 that never ends, Then the read stops after five retries with a transient error."""
    output, waits = read_once("cost_report", [api_error(503, "api_error", "down")] * 6, expecting_exception=True)

    assert waits == [3, 5, 9, 17, 33]
    assert first_error(output).failure_type == FailureType.transient_error
    assert records_of(output) == []


MISSING = object()


def page_with_bucket(**broken) -> str:
    """A whole page but for its one bucket, which has `broken` in place of (or, with MISSING, without) its fields."""
    day = bucket("2025-03-08", usage_row(output_tokens=9))
    for name, value in broken.items():
        if value is MISSING:
            del day[name]
        else:
            day[name] = value
    return json.dumps({"data": [day], "has_more": False, "next_page": None})


@pytest.mark.parametrize("body", [
    '{"data": [{"starting_at": "2025-03-08T00:00:00Z", "ending_at": "2025-03-09T00:0',
    "",
    "<html>bad gateway</html>",
    '{"has_more": false}',
    page_with_bucket(results=MISSING),
    page_with_bucket(results=None),
    page_with_bucket(results={"rows": []}),
    page_with_bucket(starting_at=MISSING),
    page_with_bucket(ending_at=MISSING),
    '{"data": ["2025-03-08"], "has_more": false, "next_page": null}',
], ids=["truncated json", "empty body", "html from a proxy", "no data list", "a bucket without results",
        "results null", "results not a list", "a bucket without starting_at", "a bucket without ending_at",
        "a bucket that is not an object"])
def test_a_200_that_is_not_a_report_page_is_fetched_again(body: str) -> None:
    output, waits = read_once("messages_usage", [
        HttpResponse(body, 200),
        window_page("messages_usage", *WINDOW, bucket("2025-03-08", usage_row(output_tokens=9))),
    ])

    assert [r["output_tokens"] for r in records_of(output)] == [9]
    assert len(waits) == 1


@pytest.mark.parametrize("sync_mode", [SyncMode.incremental, SyncMode.full_refresh])
def test_the_stream_s_error_ends_saying_what_the_next_sync_does(sync_mode) -> None:
    """The stream's own error says what failed, then what the next sync does, where the error arises (the CDK's
    summary of a failed sync only lists the streams' exceptions): an incremental stream resumes from its saved state,
    a full refresh is read again in full."""
    with HttpMocker() as http_mocker:
        http_mocker.get(report_request("messages_usage", *WINDOW), api_error(400, "invalid_request_error", "no"))
        output = read_stream("messages_usage", config(start_date="2025-03-08"), sync_mode=sync_mode,
                             expecting_exception=True)

    error = first_error(output).message
    assert error.startswith("The Anthropic Admin API refused the request (HTTP 400): no"), error
    assert error.endswith("Every record up to each stream's last saved state was delivered: once the cause is fixed, "
                          "the next sync resumes each incremental stream from there (and reads a full refresh again "
                          "in full)."), error


def test_a_page_that_is_never_whole_ends_saying_what_was_wrong_and_what_to_check() -> None:
    """Given a bucket whose results are null on every answer, Then after five retries the sync ends with one sentence
    naming the bucket's fault and api_url, not with the message of a retry that will not happen."""
    output, waits = read_once("messages_usage", [HttpResponse(page_with_bucket(results=None), 200)] * 6,
                              expecting_exception=True)

    error = first_error(output)
    assert waits == [3, 5, 9, 17, 33]
    assert error.failure_type == FailureType.transient_error
    assert "the bucket of 2025-03-08T00:00:00Z has no results list" in error.message, error.message
    assert "check that api_url is https://api.anthropic.com" in error.message
    assert "retrying" not in error.message
    assert records_of(output) == []


@both_streams
def test_a_result_row_that_cannot_be_read_ends_the_sync_in_one_sentence(stream: str) -> None:
    body = json.dumps({"data": [bucket("2025-03-08", ONE_ROW_OF[stream], "unreadable"), bucket("2025-03-09")],
                       "has_more": False, "next_page": None})
    output, _ = read_once(stream, HttpResponse(body, 200), expecting_exception=True)

    error = first_error(output)
    assert error.failure_type == FailureType.system_error
    assert error.message.startswith("The Anthropic Admin API answered /v1/organizations/"), error.message
    assert "a record this connector cannot read" in error.message
    assert "Error" not in error.message.split(":")[0]


@pytest.mark.parametrize("record", [
    "unreadable",
    claude_code_record("2025-03-10", actor="dev@example.com"),
    claude_code_record("2025-03-10", date=20250310),
    claude_code_record("2025-03-10", model_breakdown=["claude-opus-4-1"]),
], ids=["not an object", "an actor that is not an object", "a date that is not text", "a model that is not an object"])
def test_a_claude_code_record_that_cannot_be_read_ends_the_sync_in_one_sentence(record) -> None:
    with HttpMocker() as http_mocker:
        http_mocker.get(claude_code_request("2025-03-10"), page(record))
        output = read_stream("claude_code_model_usage", config(start_date="2025-03-10"),
                             sync_mode=SyncMode.full_refresh, expecting_exception=True)

    error = first_error(output)
    assert error.failure_type == FailureType.system_error
    assert error.message.startswith("The Anthropic Admin API answered /v1/organizations/usage_report/claude_code "
                                    "for 2025-03-10 with a record this connector cannot read"), error.message
