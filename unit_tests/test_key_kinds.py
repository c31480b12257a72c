"""Key kinds: a key that is not an Admin key is asked of each API, once, with the stream's own requester (its
authenticator, headers and the CDK's retries), before a stream of an API it may not read sends anything."""

import json
from typing import Any, List
from unittest import TestCase

import freezegun

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.builders import API_URL, api_error, config, read_stream, records_of

ANALYTICS_KEY = "sk-ant-api01-unit-test-analytics-key"
# One row of the last whole day, as each API is asked (the clock is frozen on 2026-03-10).
LAST_DAY = {"starting_at": "2026-03-09T00:00:00Z", "ending_at": "2026-03-10T00:00:00Z", "limit": "1"}
ADMIN_PROBE = HttpRequest(f"{API_URL}/v1/organizations/usage_report/messages",
                          query_params={"bucket_width": "1d", **LAST_DAY}, headers={"x-api-key": ANALYTICS_KEY})
ANALYTICS_PROBE = HttpRequest(f"{API_URL}/v1/organizations/analytics/usage",
                              query_params={"time_bucket_width": "1d", **LAST_DAY},
                              headers={"x-api-key": ANALYTICS_KEY,
                                       "anthropic-beta": "analytics-usage-cost-2026-08-24"})
ENGAGEMENT_PROBE = HttpRequest(f"{API_URL}/v1/organizations/analytics/summaries",
                               query_params={"starting_date": "2026-01-01"}, headers={"x-api-key": ANALYTICS_KEY})
NO_ROWS = HttpResponse(json.dumps({"data": [], "has_more": False, "next_page": None}), 200)
REFUSED = api_error(403, "permission_error", "This endpoint requires an Admin API key")


def read_users(expecting_exception: bool = False) -> Any:
    return read_stream("users", config(admin_api_key=ANALYTICS_KEY), sync_mode=SyncMode.full_refresh,
                       expecting_exception=expecting_exception)


def warnings(output: Any) -> List[str]:
    return [log.log.message for log in output.logs if log.log.level.value == "WARN"]


@freezegun.freeze_time("2026-03-10T12:00:00Z")
class TestKeyKinds(TestCase):
    @HttpMocker()
    def test_an_analytics_key_skips_a_list_stream_without_a_request_and_with_one_warning(self, http_mocker) -> None:
        """No request to /users is mocked: the CDK fails a request nothing answers, so the stream sends none."""
        http_mocker.get(ADMIN_PROBE, REFUSED)
        http_mocker.get(ANALYTICS_PROBE, NO_ROWS)

        output = read_users()

        self.assertEqual(records_of(output), [])
        self.assertEqual([w for w in warnings(output) if w.startswith("Skipping users")],
                         ["Skipping users: this key reads only the Analytics APIs (an Analytics API key of a Claude "
                          "Enterprise organization), not the Admin API. usage_analytics, cost_analytics and the "
                          "engagement streams are read; deselect users to stop this warning."])

    @HttpMocker()
    def test_a_probe_the_api_answers_with_a_server_error_is_retried_as_the_streams_requests_are(self, http_mocker):
        """Sent with the stream's headers too (the manifest's User-Agent), as its requester would send it."""
        sent_as_the_streams = HttpRequest(
            f"{API_URL}/v1/organizations/usage_report/messages", query_params={"bucket_width": "1d", **LAST_DAY},
            headers={"x-api-key": ANALYTICS_KEY, "anthropic-version": "2023-06-01",
                     "User-Agent": "airbyte-source-claude (+https://docs.airbyte.com/integrations/sources/claude)"})
        http_mocker.get(sent_as_the_streams,
                        [api_error(503, "overloaded_error", "Overloaded", headers={"retry-after": "0"}), REFUSED])
        http_mocker.get(ANALYTICS_PROBE, NO_ROWS)

        output = read_users()

        self.assertEqual(records_of(output), [])
        self.assertEqual(len([w for w in warnings(output) if w.startswith("Skipping users: this key reads only")]), 1)

    @HttpMocker()
    def test_a_key_neither_api_accepts_ends_the_sync_in_one_sentence_before_a_list_request(self, http_mocker) -> None:
        http_mocker.get(ADMIN_PROBE, REFUSED)
        http_mocker.get(ANALYTICS_PROBE, api_error(401, "authentication_error", "invalid x-api-key"))
        http_mocker.get(ENGAGEMENT_PROBE, api_error(401, "authentication_error", "invalid x-api-key"))

        output = read_users(expecting_exception=True)

        error = output.errors[0]  # the stream's, then the CDK's closing summary naming it
        self.assertTrue(error.trace.error.message.startswith(
            "This key can read none of the streams: Anthropic refused it on the Admin API and on both Analytics APIs "
            "(the Admin API answered HTTP 403: This endpoint requires an Admin API key; the Usage and Cost Analytics "
            "API answered HTTP 401: invalid x-api-key; the Claude Enterprise Analytics API answered HTTP 401: invalid "
            "x-api-key)."), error.trace.error.message)
        self.assertEqual(records_of(output), [])

    @HttpMocker()
    def test_a_probe_that_gets_no_answer_skips_nothing_and_logs_no_traceback(self, http_mocker) -> None:
        """The stream's own request then says what is wrong (here, the manifest's skip of a refused list)."""
        overloaded = api_error(503, "overloaded_error", "Overloaded", headers={"retry-after": "0"})
        http_mocker.get(ADMIN_PROBE, [overloaded, overloaded, overloaded])
        http_mocker.get(HttpRequest(f"{API_URL}/v1/organizations/users", query_params={"limit": "1000"}), REFUSED)

        output = read_users()

        self.assertEqual(records_of(output), [])
        self.assertTrue(any(w.startswith("Skipping users: the Admin API answered HTTP 403") for w in warnings(output)))
        self.assertFalse([log.log.message for log in output.logs if "Traceback" in log.log.message])
