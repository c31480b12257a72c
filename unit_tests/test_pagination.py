"""Pagination of every paged stream, against a server that never stops paging.

What the manifest promises:
- next_page (reports, Claude Code) and last_id (lists) are followed while has_more is true;
- a page token is followed at most once in a window (a report window, a Claude Code day, a list): a page that
  names the token it was asked with ends the sync before any of its records is emitted, and a token named
  again later ends it before the page is asked for again;
- a report window of D days holds at most D daily buckets, so a D-th page that says there is more ends the sync;
- each ends with one sentence that says what the API did and what to check; no request is sent twice and no
  record is emitted twice.

A connector that loops would hang these tests (a repeated Claude Code page comes from the pages the two Claude
Code streams share, never from the server again), so past twenty pages a read fails instead.
"""

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional
from unittest.mock import patch

import freezegun
import pytest

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.builders import (
    api_error,
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
    whole_window,
    window_page,
)

ASKED_AGAIN = api_error(400, "invalid_request_error", "test server: this page was asked for already")


@dataclass
class PagedStream:
    name: str
    start_date: str
    request: Callable[[Optional[str]], HttpRequest]  # the request for a page token (None: the first page)
    item: Callable[[int], Dict[str, Any]]  # the n-th distinct item a page can hold
    answer: Callable[[List[Dict[str, Any]], Optional[str]], HttpResponse]  # a page of items naming a next token
    token_of: Callable[[List[Dict[str, Any]], str], str]  # the token a page of these items names


def report_stream(name: str, row: Callable[[int], Dict[str, Any]]) -> PagedStream:
    return PagedStream(
        name, "2025-03-01",
        lambda token: report_request(name, "2025-03-01T00:00:00Z", "2025-03-10T00:00:00Z", page=token),
        lambda n: bucket(f"2025-03-0{n}", row(n)),
        lambda items, token: page(*items, next_page=token),
        lambda items, token: token,
    )


STREAMS = {
    "messages_usage": report_stream("messages_usage", lambda n: usage_row(output_tokens=n)),
    "cost_report": report_stream("cost_report", lambda n: cost_row(str(n))),
    "claude_code_usage": PagedStream(
        "claude_code_usage", "2025-03-10",
        lambda token: claude_code_request("2025-03-10", page=token),
        lambda n: claude_code_record("2025-03-10", terminal_type=f"terminal-{n}"),
        lambda items, token: page(*items, next_page=token),
        lambda items, token: token,
    ),
    # A list's token is the id of its page's last item (after_id = last_id).
    "users": PagedStream(
        "users", "2025-03-10",
        lambda token: list_request("/v1/organizations/users", **({"after_id": token} if token else {})),
        lambda n: {"id": f"user_{n}", "email": f"person{n}@example.com", "type": "user"},
        lambda items, token: list_page(*items, has_more=token is not None),
        lambda items, token: items[-1]["id"],
    ),
}
every_stream = pytest.mark.parametrize("stream", list(STREAMS))


@pytest.fixture(autouse=True)
def frozen_now():
    with freezegun.freeze_time("2025-03-10T12:00:00Z"):
        yield


@pytest.fixture(autouse=True)
def at_most_twenty_pages():
    fetch_page, pages = SimpleRetriever._fetch_next_page, []

    def counted(retriever, *args, **kwargs):
        pages.append(1)
        if len(pages) > 20:
            raise RuntimeError("Looping: more than twenty pages in one read.")
        return fetch_page(retriever, *args, **kwargs)

    with patch.object(SimpleRetriever, "_fetch_next_page", counted):
        yield


def read(stream: PagedStream) -> EntrypointOutput:
    return read_stream(stream.name, config(start_date=stream.start_date), sync_mode=SyncMode.full_refresh,
                       expecting_exception=True)


def the_error(output: EntrypointOutput):
    assert output.errors, "the sync did not fail"
    return output.errors[0].trace.error


def assert_no_record_twice(output: EntrypointOutput) -> None:
    keys = [record.get("row_key") or record["id"] for record in records_of(output)]
    assert len(keys) == len(set(keys)), keys


@every_stream
def test_a_page_that_names_the_token_it_was_asked_with_ends_the_sync(stream: str) -> None:
    """Given a server that ignores the page token (answering the first page again, with the same token), When
    reading, Then the sync ends at the second page, and the first page's records are emitted once."""
    paged = STREAMS[stream]
    items = [paged.item(1)]
    token = paged.token_of(items, "page_Mg==")
    with HttpMocker() as http_mocker:
        first, second = paged.request(None), paged.request(token)
        http_mocker.get(first, paged.answer(items, token))
        http_mocker.get(second, [paged.answer(items, token), ASKED_AGAIN])

        output = read(paged)

        http_mocker.assert_number_of_calls(first, 1)
        http_mocker.assert_number_of_calls(second, 1)
    error = the_error(output)
    assert error.failure_type == FailureType.system_error
    assert "has_more true and the same page token it was asked with" in error.message, error.message
    assert "check that api_url is https://api.anthropic.com" in error.message
    assert len(records_of(output)) == 1
    assert_no_record_twice(output)


@every_stream
def test_a_token_named_again_later_ends_the_sync_before_its_page_is_asked_for_again(stream: str) -> None:
    """Given pages 1 -> A -> B -> A, When reading, Then A and B are each asked for once and the sync ends."""
    paged = STREAMS[stream]
    pages = [[paged.item(1)], [paged.item(2)], [paged.item(3)]]
    token_a, token_b = paged.token_of(pages[0], "page_QQ=="), paged.token_of(pages[1], "page_Qg==")
    if stream == "users":  # a list can only name its own last id: page B ends with A's last item
        pages[2] = [paged.item(3), paged.item(1)]
    with HttpMocker() as http_mocker:
        requests = [paged.request(None), paged.request(token_a), paged.request(token_b)]
        http_mocker.get(requests[0], paged.answer(pages[0], token_a))
        http_mocker.get(requests[1], [paged.answer(pages[1], token_b), ASKED_AGAIN])
        http_mocker.get(requests[2], [paged.answer(pages[2], token_a), ASKED_AGAIN])

        output = read(paged)

        for request in requests:
            http_mocker.assert_number_of_calls(request, 1)
    error = the_error(output)
    assert error.failure_type == FailureType.system_error
    assert "named a page token a second time" in error.message, error.message
    assert "check that api_url is https://api.anthropic.com" in error.message


@pytest.mark.parametrize("stream", ["messages_usage", "cost_report"])
def test_more_pages_than_a_report_window_has_days_ends_the_sync(stream: str) -> None:
    """Given a two-day window whose server pages on with a new token after each page, When reading, Then the
    second page's has_more ends the sync: two days hold at most two buckets, so at most two pages."""
    row = usage_row(output_tokens=1) if stream == "messages_usage" else cost_row("1")
    with HttpMocker() as http_mocker:
        pages = [report_request(stream, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z", page=token)
                 for token in (None, "page_1", "page_2")]
        http_mocker.get(pages[0], page(bucket("2025-03-08", row), next_page="page_1"))
        http_mocker.get(pages[1], page(bucket("2025-03-09", row), next_page="page_2"))
        http_mocker.get(pages[2], ASKED_AGAIN)

        output = read_stream(stream, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh,
                             expecting_exception=True)

        http_mocker.assert_number_of_calls(pages[2], 0)
    error = the_error(output)
    assert error.failure_type == FailureType.system_error
    assert "more pages than its 2 days of buckets can fill" in error.message, error.message
    assert len(records_of(output)) == 2


def test_a_report_window_paged_one_bucket_at_a_time_is_read_whole() -> None:
    """Given a server that pages one bucket at a time, When reading a three-day window, Then the three pages are
    read: the bound is the window's days, not the page size asked for."""
    with HttpMocker() as http_mocker:
        requests = [report_request("messages_usage", "2025-03-07T00:00:00Z", "2025-03-10T00:00:00Z", page=token)
                    for token in (None, "page_1", "page_2")]
        for day, (request, next_page) in enumerate(zip(requests, ("page_1", "page_2", None)), start=7):
            http_mocker.get(request, page(bucket(f"2025-03-0{day}", usage_row(output_tokens=day)), next_page=next_page))

        output = read_stream("messages_usage", config(start_date="2025-03-07"), sync_mode=SyncMode.full_refresh)

    assert [r["output_tokens"] for r in records_of(output)] == [7, 8, 9]


def endless_page(stream: str, items: List[Dict[str, Any]], token: str) -> HttpResponse:
    """A page of `items` that says there is more, naming `token` next (for a list, as the last id, whatever the
    items are: what a server that makes up fresh tokens sends)."""
    if stream == "users":
        body = {"data": items, "has_more": True, "first_id": items[0]["id"], "last_id": token}
        return HttpResponse(json.dumps(body), 200)
    return STREAMS[stream].answer(items, token)


@every_stream
def test_a_page_with_nothing_new_ends_the_sync_whatever_token_it_names_next(stream: str) -> None:
    """Given a server that answers every page with the same items and a fresh token (it ignores the token it is
    sent, and makes up the next), When reading, Then the second page, which adds nothing, ends the sync in one
    sentence: two requests, each item emitted once."""
    paged = STREAMS[stream]
    items = [paged.item(1), paged.item(2)]
    with HttpMocker() as http_mocker:
        requests = [paged.request(token) for token in (None, "page_1", "page_2")]
        http_mocker.get(requests[0], endless_page(stream, items, "page_1"))
        http_mocker.get(requests[1], endless_page(stream, items, "page_2"))
        http_mocker.get(requests[2], ASKED_AGAIN)

        output = read(paged)

        http_mocker.assert_number_of_calls(requests[1], 1)
        http_mocker.assert_number_of_calls(requests[2], 0)
    error = the_error(output)
    assert error.failure_type == FailureType.system_error
    assert "held nothing it had not already sent" in error.message, error.message
    assert "check that api_url is https://api.anthropic.com" in error.message
    assert len(records_of(output)) == 2
    assert_no_record_twice(output)


def page_without_next_token(stream: str, items: List[Dict[str, Any]]) -> HttpResponse:
    token_field = "last_id" if stream == "users" else "next_page"
    return HttpResponse(json.dumps({"data": items, "has_more": True, token_field: None}), 200)


@every_stream
def test_has_more_without_a_next_token_is_a_page_that_is_not_whole(stream: str) -> None:
    """Given a page that says has_more true but names no next page (next_page or last_id null), When reading, Then it
    is fetched again like any page that is not whole, and after five retries the sync ends in one sentence, without
    reading it as the last page."""
    paged = STREAMS[stream]
    with HttpMocker() as http_mocker, patch("time.sleep"):
        first = paged.request(None)
        http_mocker.get(first, page_without_next_token(stream, [paged.item(1)]))

        output = read(paged)

        http_mocker.assert_number_of_calls(first, 6)
    error = the_error(output)
    assert "page that is not whole (it says has_more true but names no next page) through 5 retries" in error.message
    assert records_of(output) == []


def test_has_more_without_a_next_token_keeps_the_state_at_the_last_day_read_whole() -> None:
    """Given Claude Code days 03-09 (whole) and 03-10 (has_more true, no next page), When reading incrementally,
    Then the sync fails and the state stays at 03-09: 03-10 is read again by the next sync."""
    with HttpMocker() as http_mocker, patch("time.sleep"):
        http_mocker.get(claude_code_request("2025-03-09"), page(claude_code_record("2025-03-09")))
        http_mocker.get(claude_code_request("2025-03-10"),
                        page_without_next_token("claude_code_usage", [claude_code_record("2025-03-10")]))

        output = read_stream("claude_code_usage", config(start_date="2025-03-09"), expecting_exception=True)

    assert the_error(output)
    assert [record["date"] for record in records_of(output)] == ["2025-03-09"]
    assert output.most_recent_state.stream_state.__dict__ == {"date": "2025-03-09"}


def test_a_report_window_whose_buckets_stop_short_is_fetched_again_then_fails_keeping_the_state() -> None:
    """Given a first window read whole and a second whose page ends on 02-20 and says there is no more (the API
    returns a bucket for every day asked for, empty or not), When reading incrementally, Then the second window is
    fetched again five times and the sync ends in one sentence: its days are not read as empty, and the state stays
    at the first window's last day (the third window is read too), so the next sync reads the second again."""
    first, second = ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"), ("2025-02-01T00:00:00Z", "2025-03-04T00:00:00Z")
    with HttpMocker() as http_mocker, patch("time.sleep"):
        http_mocker.get(*whole_window("messages_usage", *first, bucket("2025-01-31", usage_row(output_tokens=1))))
        short = window_page("messages_usage", second[0], "2025-02-20T00:00:00Z", bucket("2025-02-02", usage_row()))
        second_request = report_request("messages_usage", *second)
        http_mocker.get(second_request, short)
        http_mocker.get(*whole_window("messages_usage", "2025-03-04T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-09", usage_row(output_tokens=3))))

        output = read_stream("messages_usage", config(start_date="2025-01-01"), expecting_exception=True)

        http_mocker.assert_number_of_calls(second_request, 6)
    error = the_error(output)
    assert ("page that is not whole (its buckets stop at 2025-02-20T00:00:00Z, short of the window's end at "
            "2025-03-04T00:00:00Z, and it says there is no more) through 5 retries") in error.message, error.message
    assert "/v1/organizations/usage_report/messages for 2025-02-01T00:00:00Z to 2025-03-04T00:00:00Z" in error.message
    assert [record["output_tokens"] for record in records_of(output)] == [1, 3]
    assert output.most_recent_state.stream_state.starting_at == "2025-01-31T00:00:00Z"


@pytest.mark.parametrize("stream,window,buckets,problem", [
    ("cost_report", ("2025-03-07T00:00:00Z", "2025-03-10T00:00:00Z"), ["2025-03-07", "2025-03-09"],
     "it has no bucket from 2025-03-08T00:00:00Z to 2025-03-09T00:00:00Z"),
    ("cost_report", ("2025-03-07T00:00:00Z", "2025-03-10T00:00:00Z"), [],
     "its buckets stop at 2025-03-07T00:00:00Z, short of the window's end at 2025-03-10T00:00:00Z"),
    ("messages_usage_hourly", ("2025-03-10T08:00:00Z", "2025-03-10T12:00:00Z"), ["2025-03-10T08", "2025-03-10T09"],
     "its buckets stop at 2025-03-10T10:00:00Z, short of the window's end at 2025-03-10T12:00:00Z"),
], ids=["a day missing", "no bucket", "the last hours missing"])
def test_a_report_page_that_leaves_part_of_its_window_uncovered_is_not_whole(stream, window, buckets, problem) -> None:
    hourly = stream == "messages_usage_hourly"
    with HttpMocker() as http_mocker, patch("time.sleep"):
        request = report_request(stream, *window)
        http_mocker.get(request, page(*((hourly_bucket if hourly else bucket)(start) for start in buckets)))

        output = read_stream(stream, config(start_date=window[0][:10], hourly_start_date=window[0]),
                             sync_mode=SyncMode.full_refresh, expecting_exception=True)

        http_mocker.assert_number_of_calls(request, 6)
    assert f"page that is not whole ({problem}" in the_error(output).message, the_error(output).message
