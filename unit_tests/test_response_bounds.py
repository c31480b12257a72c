"""A response is read up to a size and within a time, whatever the server sends: a body far larger than any page
ends the sync at once in one sentence, without holding it in memory; a body that drips in is dropped at the
deadline and retried a few times, then ends the sync in one sentence. The limits are patched small, so the tests
send kilobytes, not gigabytes."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List
from unittest.mock import patch

import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from source_claude import components
from unit_tests.builders import config, list_page, list_request, read_stream, records_of

USERS = "/v1/organizations/users"


def read_users(user_config) -> object:
    return read_stream("users", user_config, sync_mode=SyncMode.full_refresh, expecting_exception=True)


def test_a_body_larger_than_the_bound_ends_the_sync_at_once_in_one_sentence() -> None:
    many = [{"id": f"user_{n}", "email": f"user{n}@example.com"} for n in range(200)]
    with HttpMocker() as http_mocker, patch.object(components, "MAX_RESPONSE_BYTES", 4096), patch("time.sleep"):
        # A retry would get the small page and read its user.
        http_mocker.get(list_request(USERS), [list_page(*many), list_page({"id": "user_1"})])
        output = read_users(config())

    assert records_of(output) == []
    error = output.errors[0].trace.error
    assert error.message.startswith(f"The Anthropic Admin API answered {USERS} with more than 0.00390625 MiB, where "
                                    "a page is a few MB at most, so the connector stopped reading it: check that "
                                    "api_url is https://api.anthropic.com")


def test_a_body_within_the_bound_is_read() -> None:
    with HttpMocker() as http_mocker, patch.object(components, "MAX_RESPONSE_BYTES", 4096):
        http_mocker.get(list_request(USERS), list_page({"id": "user_1"}, {"id": "user_2"}))
        output = read_stream("users", config(), sync_mode=SyncMode.full_refresh)

    assert [user["id"] for user in records_of(output)] == ["user_1", "user_2"]


class DrippingServer(ThreadingHTTPServer):
    """Answers every request with headers at once, then a byte of its body at a time, until the client hangs up
    (or 5 s have passed)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.requests: List[str] = []
        self.stopped = threading.Event()
        super().__init__(("127.0.0.1", 0), DripOneByteAtATime)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class DripOneByteAtATime(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "100000")
        self.end_headers()
        try:
            # Not time.sleep, which the test patches; a few seconds at most, so a client without a deadline ends too.
            for _ in range(100):
                if self.server.stopped.wait(0.05):
                    break
                self.wfile.write(b" ")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *_) -> None:
        pass


@pytest.fixture
def dripping_server() -> Iterator[DrippingServer]:
    server = DrippingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stopped.set()
    server.shutdown()
    server.server_close()


def test_a_body_that_drips_in_is_dropped_at_the_deadline_retried_then_ends_the_sync(dripping_server) -> None:
    with patch.object(components, "MAX_RESPONSE_SECONDS", 0.3), patch("time.sleep"):
        output = read_users(config(api_url=dripping_server.url))

    assert records_of(output) == []
    error = output.errors[0].trace.error
    assert error.message.startswith(f"The Anthropic Admin API took more than 0.3 s to send its answer to {USERS}, "
                                    "where a page takes seconds, so the connector stopped reading it")
    # Retried a few times, as a server that does not answer is, then given up: never read for ever.
    assert 1 < len(dripping_server.requests) <= 10
