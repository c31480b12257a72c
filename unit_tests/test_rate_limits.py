"""Rate limits as the Admin API really sends them (recorded from live organizations, reference §7.5):

- a 429 carries no retry-after but anthropic-ratelimit-requests-reset (RFC 3339), -limit and -remaining; the
  connector waits until 0.1 s after the reset, for as long as the reset stays within 15 minutes of the
  request's first answer, however many 429s that takes;
- a 429 holds only the request it refused: the next 429 says when to wait again (no pace is learned from them);
- max_requests_per_minute caps the requests of any minute from the first request (the manifest's api_budget);
- x-should-retry: false fails now with the API's message; true retries a status that would otherwise fail;
- each wait is logged in one line at info level: what limited the sync, how long it waits and until when;
- when the budget is spent, the sync ends with one sentence about the organization's shared limit.
"""

from datetime import datetime, timedelta, timezone
from typing import Dict, List, Tuple
from unittest.mock import patch

import freezegun
import pytest

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from unit_tests.builders import (
    api_error, bucket, config, read_stream, records_of, report_request, usage_row, window_page,
)

NOW = datetime(2025, 3, 10, 12, 0, 0, tzinfo=timezone.utc)
STREAM = "messages_usage"
ONE_WINDOW = ("2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z")


def rate_limited(reset_in_seconds: float, limit: int = 2, should_retry: str = "true",
                 remaining: int = 0) -> HttpResponse:
    """A 429 as recorded from the live API: the three ratelimit headers, x-should-retry, and no retry-after."""
    reset = NOW + timedelta(seconds=reset_in_seconds)
    return api_error(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit.", {
        "anthropic-ratelimit-requests-limit": str(limit),
        "anthropic-ratelimit-requests-remaining": str(remaining),
        "anthropic-ratelimit-requests-reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-should-retry": should_retry,
    })


def a_page(window: Tuple[str, str] = ONE_WINDOW) -> HttpResponse:
    """The window's page, with one row on its first day."""
    return window_page(STREAM, *window, bucket(window[0][:10], usage_row(output_tokens=9)))


def read_with(responses: List[HttpResponse], user_config: Dict = None, windows: Tuple = (ONE_WINDOW,),
              expecting_exception: bool = False, zero_sleep: float = 0.0) -> Tuple[EntrypointOutput, List[float]]:
    """Serves `responses` in order to the first window (later windows get one page each); returns the output and
    every wait. The clock starts at NOW and moves only when the connector sleeps, by exactly as long; a sleep of 0 s
    by zero_sleep seconds (the api_budget's limiter sleeps 0 s at a window's exact end, then tries again, as a real
    clock moves on)."""
    with freezegun.freeze_time(NOW) as clock, HttpMocker() as http_mocker, \
            patch("time.sleep", side_effect=lambda seconds: clock.tick(timedelta(seconds=seconds or zero_sleep))) as sleep:
        http_mocker.get(report_request(STREAM, *windows[0]), responses)
        for window in windows[1:]:
            http_mocker.get(report_request(STREAM, *window), a_page(window))
        output = read_stream(STREAM, user_config or config(start_date=windows[0][0][:10]),
                             sync_mode=SyncMode.full_refresh, expecting_exception=expecting_exception)
    # The backoff library also sleeps 0 s between tries (it waits in the CDK's callback instead).
    return output, [call.args[0] for call in sleep.call_args_list if call.args and call.args[0] > 0]


def test_a_429_waits_until_the_reset_it_names() -> None:
    output, sleeps = read_with([rate_limited(reset_in_seconds=34), a_page()])

    assert sleeps == [pytest.approx(34.1)]  # until a tenth of a second after the reset
    assert len(records_of(output)) == 1


def test_each_wait_is_logged_once_with_its_cause_duration_and_end() -> None:
    output, _ = read_with([rate_limited(reset_in_seconds=34), a_page()])

    waits = [log.log.message for log in output.logs if log.log.message.startswith("Waiting ")]
    assert waits == ["Waiting 34.1 s, until 2025-03-10T12:00:34Z, before retrying: HTTP 429 from the organization's "
                     "request limit (2 requests), which resets at 2025-03-10T12:00:34Z."]


def test_429s_that_name_their_reset_are_retried_past_five_times_within_the_budget() -> None:
    """Given eight 429s whose resets stay within 15 minutes of the first answer, Then all eight are waited out."""
    output, sleeps = read_with([rate_limited(reset_in_seconds=100 * n) for n in range(1, 9)] + [a_page()])

    # Each retry is answered as soon as it is sent, so each later reset is 100 s after the retry's answer.
    assert sleeps == pytest.approx([100.1] + [100.0] * 7)
    assert len(records_of(output)) == 1


def test_a_reset_beyond_the_budget_ends_the_sync_with_one_sentence_about_the_shared_limit() -> None:
    """Given 429s whose resets move 200 s further each time, Then the one past 15 minutes is not waited for."""
    output, sleeps = read_with([rate_limited(reset_in_seconds=200 * n) for n in range(1, 7)], expecting_exception=True)

    # Resets at +200, +400, +600 and +800 s are waited for; the one at +1000 s is past the 900 s budget.
    assert sleeps == pytest.approx([200.1, 200.0, 200.0, 200.0])
    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.transient_error
    assert "kept rate limiting this organization (HTTP 429)" in error.message
    assert "shared by every key and tool of the organization" in error.message
    assert "the next sync resumes each incremental stream from there" in error.message


def test_a_429_holds_only_the_request_it_refused() -> None:
    """Given a 429 on the first request naming 2 requests and a reset 69 s away, Then its retry waits for the reset
    (and a tenth of a second), and the later windows' requests go at once: the next 429, if any, says when to wait
    again (at most one 429 per window of the limit, the rate-limit bench's measure)."""
    windows = (("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"), ("2025-02-01T00:00:00Z", "2025-03-04T00:00:00Z"),
               ("2025-03-04T00:00:00Z", "2025-03-10T00:00:00Z"))
    output, sleeps = read_with([rate_limited(reset_in_seconds=69), a_page(windows[0])], windows=windows)

    assert sleeps == [pytest.approx(69.1)]
    assert len(records_of(output)) == 3


def test_max_requests_per_minute_caps_every_minute_from_the_first_request() -> None:
    """Given max_requests_per_minute 2 and three windows to read, Then the first two requests go at once and the
    third waits until the first has left its minute (the manifest's api_budget)."""
    windows = (("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"), ("2025-02-01T00:00:00Z", "2025-03-04T00:00:00Z"),
               ("2025-03-04T00:00:00Z", "2025-03-10T00:00:00Z"))
    output, sleeps = read_with([a_page(windows[0])],
                               user_config=config(start_date="2025-01-01", max_requests_per_minute=2),
                               windows=windows, zero_sleep=0.001)

    assert sleeps == [60.0]
    assert len(records_of(output)) == 3


@pytest.mark.parametrize("status", [429, 503, 529])
def test_x_should_retry_false_fails_now_with_the_api_message(status: int) -> None:
    refused = api_error(status, "rate_limit_error" if status == 429 else "api_error", "Your monthly spend limit is reached.",
                        {"x-should-retry": "false"})
    output, sleeps = read_with([refused], expecting_exception=True)

    assert sleeps == []
    assert f"HTTP {status} and said not to retry" in output.errors[0].trace.error.message
    assert "Your monthly spend limit is reached." in output.errors[0].trace.error.message


@pytest.mark.parametrize("status", [400, 409])
def test_x_should_retry_true_retries_a_status_that_would_fail(status: int) -> None:
    retryable = api_error(status, "invalid_request_error", "try again", {"x-should-retry": "true"})
    output, sleeps = read_with([retryable, a_page()])

    assert sleeps == [3.0]
    assert len(records_of(output)) == 1


def test_a_400_that_says_not_to_retry_fails_at_once_with_its_message() -> None:
    refused = api_error(400, "invalid_request_error", "Invalid date range: ending date must be after starting date",
                        {"x-should-retry": "false"})
    output, sleeps = read_with([refused], expecting_exception=True)

    assert sleeps == []
    assert "Invalid date range: ending date must be after starting date" in output.errors[0].trace.error.message


@pytest.mark.parametrize("reset_in_seconds", [-5, -3600])
def test_a_429_whose_reset_has_passed_counts_as_a_429_without_one(reset_in_seconds: int) -> None:
    """Given 429s on every answer whose reset time is already past (a proxy's stale header, or a clock that runs
    ahead of the API's), Then they are retried five times with backoff, as a 429 that names no reset is, and the sync
    ends in the connector's sentence: not once a second until the CDK's time limit."""
    output, sleeps = read_with([rate_limited(reset_in_seconds=reset_in_seconds)] * 30, expecting_exception=True)

    assert sleeps == [3.0, 5.0, 9.0, 17.0, 33.0]
    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.transient_error
    assert error.message.startswith("The Anthropic Admin API kept rate limiting this organization (HTTP 429) through "
                                    "5 retries."), error.message


def test_a_429_with_requests_remaining_is_retried_as_one_without_a_reset() -> None:
    """Given 429s whose reset is 5 minutes away but whose limit has requests remaining (another limit refused them),
    Then they are not held until that reset, nor retried for its 15-minute budget: they back off five times, as a 429
    that names no reset does, and the sync ends in the connector's sentence."""
    output, sleeps = read_with([rate_limited(reset_in_seconds=300, limit=50, remaining=12)] * 30,
                               expecting_exception=True)

    assert sleeps == [3.0, 5.0, 9.0, 17.0, 33.0]
    waits = [log.log.message for log in output.logs if log.log.message.startswith("Waiting ")]
    assert waits[0] == ("Waiting 3.0 s, until 2025-03-10T12:00:03Z, before retrying: HTTP 429 with 12 requests of the "
                        "limit remaining.")
    error = output.errors[0].trace.error
    assert error.message.startswith("The Anthropic Admin API kept rate limiting this organization (HTTP 429) through "
                                    "5 retries."), error.message


def test_a_server_error_that_carries_the_limits_headers_is_retried_with_backoff_not_held_until_the_reset() -> None:
    """Given a 503 with the limit's headers and requests remaining, Then it waits as any 503 (2 s + 1 s), not until
    the reset the headers name: only a spent limit is waited out."""
    overloaded = api_error(503, "api_error", "Service unavailable", {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": (NOW + timedelta(seconds=300)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    })
    output, sleeps = read_with([overloaded, a_page()])

    assert sleeps == [3.0]
    assert len(records_of(output)) == 1


def test_a_429_asking_to_wait_longer_than_the_connector_waits_ends_in_its_sentence() -> None:
    """Given a 429 with retry-after: 86400 and no reset time, Then the sync ends at once, in the connector's sentence
    saying the API asked to wait a day and when to run the sync again, not in the CDK's."""
    day_long = api_error(429, "rate_limit_error", "slow down", {"retry-after": "86400"})
    output, sleeps = read_with([day_long], expecting_exception=True)

    assert sleeps == []
    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.transient_error
    assert error.message.startswith("The Anthropic Admin API asked to wait 1 day before the next request (HTTP 429, "
                                    "retry-after: 86400), longer than the 10 minutes the connector waits for one: run "
                                    "the sync again after 2025-03-11T12:00:00Z."), error.message
    assert "the next sync resumes" in error.message


@pytest.mark.parametrize("status", [429, 503])
def test_x_should_retry_false_ends_the_api_message_with_a_full_stop(status: int) -> None:
    """The API's message has no full stop of its own: the sentence that follows it starts after one."""
    refused = api_error(status, "api_error", "Overloaded", {"x-should-retry": "false"})
    output, _ = read_with([refused], expecting_exception=True)

    message = output.errors[0].trace.error.message
    assert f"(x-should-retry: false): Overloaded. Every record up to" in message, message
