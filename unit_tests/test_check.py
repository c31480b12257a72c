"""check: one request over the last whole day of the configured range (or before it, while the range holds no whole
day yet); errors in one sentence."""

import logging
from unittest import TestCase
from unittest.mock import patch

import freezegun

from airbyte_cdk.models import Status
from airbyte_cdk.test.mock_http import HttpMocker

from source_claude import SourceClaude
from unit_tests.builders import api_error, bucket, config, report_request, whole_window, usage_row

LOGGER = logging.getLogger("test")


def run_check(user_config) -> object:
    with patch("source_claude.source.unreachable_api_url", return_value=None):
        return SourceClaude(config=user_config).check(LOGGER, user_config)


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestCheck(TestCase):
    @HttpMocker()
    def test_reads_only_the_last_whole_day(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window("messages_usage", "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-09", usage_row(output_tokens=1))))

        status = run_check(config(start_date="2024-01-01"))

        self.assertEqual(status.status, Status.SUCCEEDED)

    @HttpMocker()
    def test_succeeds_on_a_day_without_usage(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window("messages_usage", "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-09")))

        self.assertEqual(run_check(config()).status, Status.SUCCEEDED)

    @HttpMocker()
    def test_401_fails_with_the_sentence_and_nothing_else(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(report_request("messages_usage", "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z"),
                        api_error(401, "authentication_error", "invalid x-api-key"))

        status = run_check(config())

        self.assertEqual(status.status, Status.FAILED)
        self.assertTrue(status.message.startswith("Anthropic rejected the Admin API key (HTTP 401"), status.message)

    @HttpMocker()
    def test_403_says_a_regular_key_cannot_read_reports(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(report_request("messages_usage", "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z"),
                        api_error(403, "permission_error", "Admin key required"))

        status = run_check(config())

        self.assertEqual(status.status, Status.FAILED)
        self.assertIn("Regular API keys (sk-ant-api...) cannot", status.message)

    @HttpMocker()
    def test_on_day_one_tests_the_key_on_the_last_whole_day_and_says_nothing_is_read_yet(self, http_mocker) -> None:
        """Given start_date today (no whole UTC day to read yet), Then check still asks for yesterday, so the key is
        tested, and succeeds saying when the first day can be read."""
        http_mocker.get(*whole_window("messages_usage", "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-09")))

        status = run_check(config(start_date="2025-03-10"))

        self.assertEqual(status.status, Status.SUCCEEDED)
        self.assertIn("nothing to read yet: the first whole UTC day from start_date, 2025-03-10, ends at "
                      "2025-03-11T00:00:00Z", status.message)
        self.assertIn("messages_usage_hourly reads each hour once it has ended", status.message)

    @HttpMocker()
    def test_on_day_one_a_rejected_key_fails(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(report_request("messages_usage", "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z"),
                        api_error(401, "authentication_error", "invalid x-api-key"))

        status = run_check(config(start_date="2025-03-10"))

        self.assertEqual(status.status, Status.FAILED)
        self.assertTrue(status.message.startswith("Anthropic rejected the Admin API key (HTTP 401"), status.message)

    def test_an_unreachable_api_url_fails_before_any_report_request(self) -> None:
        user_config = config(api_url="https://nowhere.invalid")
        with patch("source_claude.source.unreachable_api_url", return_value="Could not connect") as probe:
            status = SourceClaude(config=user_config).check(LOGGER, user_config)

        probe.assert_called_once_with("https://nowhere.invalid")
        self.assertEqual((status.status, status.message), (Status.FAILED, "Could not connect"))

    @HttpMocker()
    def test_with_an_end_date_in_the_past_reads_the_last_day_before_it(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window("messages_usage", "2025-01-31T00:00:00Z", "2025-02-01T00:00:00Z",
                                      bucket("2025-01-31")))

        self.assertEqual(run_check(config(end_date="2025-02-01")).status, Status.SUCCEEDED)

    @HttpMocker()
    def test_uses_the_config_it_is_given(self, http_mocker: HttpMocker) -> None:
        """Given a source built without a config, When check is called with one, Then it probes that config's
        api_url with that config's key, as a caller of the Source interface expects."""
        http_mocker.get(*whole_window("messages_usage", "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-09")))
        given = config(start_date="2024-01-01")
        with patch("source_claude.source.unreachable_api_url", return_value=None) as probe:
            status = SourceClaude().check(LOGGER, given)

        probe.assert_called_once_with("https://api.anthropic.com")
        self.assertEqual(status.status, Status.SUCCEEDED)
