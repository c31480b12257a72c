"""messages_usage_hourly: GET /v1/organizations/usage_report/messages in hourly buckets, up to the last whole hour.

What the manifest promises for this stream, and these tests hold it to:
- requests carry bucket_width=1h, limit=168 (the API's maximum for 1h) and messages_usage's five group_by[];
- windows are 7 days (168 buckets, one page each) on whole hours: starting_at and ending_at are HH:00:00Z, and the
  last window ends at the last whole hour, so the unfinished hour is never asked for;
- the first sync starts at hourly_start_date's first whole hour, by default 30 days before the last whole hour, never
  before start_date; end_date bounds it as it bounds the daily reports;
- one record per result row of each hour, with messages_usage's fields, and a row_key unique across hours;
- state is the start of the last hour read, with or without rows, checkpointed per window; an incremental sync starts
  hourly_lookback_window_hours before it (unset: 24 x lookback_window_days + 46, every day messages_usage re-reads);
  a saved cursor is moved to its hour, and one past the last whole hour is read as it, with a warning.
"""

from unittest import TestCase

import freezegun
import pytest

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    bucket, config, hourly_bucket, page, whole_window, read_stream, records_of, report_request, usage_row,
)

STREAM = "messages_usage_hourly"
NOW = "2025-03-10T12:34:56Z"


def states_of(output):
    return [message.state.stream.stream_state.__dict__["starting_at"] for message in output.state_messages]


@freezegun.freeze_time(NOW)
class TestWindowsAndRequests(TestCase):
    @HttpMocker()
    def test_the_first_sync_reads_the_last_30_days_in_five_requests(self, http_mocker: HttpMocker) -> None:
        """Given no hourly_start_date and now 12:34:56, When reading, Then the 720 hours from 02-08 12:00 to 03-10
        12:00 are read in ceil(720 / 168) = 5 windows that meet exactly, the last ending at the last whole hour."""
        edges = ["2025-02-08T12", "2025-02-15T12", "2025-02-22T12", "2025-03-01T12", "2025-03-08T12", "2025-03-10T12"]
        for start, end in zip(edges, edges[1:]):
            http_mocker.get(*whole_window(STREAM, f"{start}:00:00Z", f"{end}:00:00Z"))

        read_stream(STREAM, config(), sync_mode=SyncMode.full_refresh)

    @HttpMocker()
    def test_hourly_start_date_inside_an_hour_starts_at_the_next_whole_hour(self, http_mocker: HttpMocker) -> None:
        """Given hourly_start_date 03-10T09:15+02:00 (07:15 UTC), Then reading starts at 08:00 UTC."""
        http_mocker.get(*whole_window(STREAM, "2025-03-10T08:00:00Z", "2025-03-10T12:00:00Z",
                                      hourly_bucket("2025-03-10T08", usage_row(output_tokens=8))))

        output = read_stream(STREAM, config(hourly_start_date="2025-03-10T09:15:00+02:00"),
                             sync_mode=SyncMode.full_refresh)

        self.assertEqual([r["output_tokens"] for r in records_of(output)], [8])

    @HttpMocker()
    def test_the_default_start_is_never_before_start_date(self, http_mocker: HttpMocker) -> None:
        """Given start_date 03-09T05:30Z and no hourly_start_date, Then nothing before 03-09T06:00Z is asked for."""
        http_mocker.get(*whole_window(STREAM, "2025-03-09T06:00:00Z", "2025-03-10T12:00:00Z"))

        read_stream(STREAM, config(start_date="2025-03-09T05:30:00Z"), sync_mode=SyncMode.full_refresh)

    @HttpMocker()
    def test_end_date_ends_the_last_window_at_its_hour(self, http_mocker: HttpMocker) -> None:
        """Given end_date 03-10T03:45Z, Then the last bucket read is 02:00-03:00 (03:00 has not ended by end_date)."""
        http_mocker.get(*whole_window(STREAM, "2025-03-09T00:00:00Z", "2025-03-10T03:00:00Z"))

        read_stream(STREAM, config(hourly_start_date="2025-03-09", end_date="2025-03-10T03:45:00Z"),
                    sync_mode=SyncMode.full_refresh)

    @HttpMocker()
    def test_a_future_end_date_is_read_as_the_last_whole_hour(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window(STREAM, "2025-03-10T00:00:00Z", "2025-03-10T12:00:00Z"))

        read_stream(STREAM, config(hourly_start_date="2025-03-10", end_date="2030-01-01"),
                    sync_mode=SyncMode.full_refresh)

    @HttpMocker()
    def test_an_hourly_start_in_the_unfinished_hour_makes_no_request(self, http_mocker: HttpMocker) -> None:
        """Given hourly_start_date 12:00 and now 12:34, Then no hour has ended since: nothing is requested."""
        output = read_stream(STREAM, config(hourly_start_date="2025-03-10T12:00:00Z"), sync_mode=SyncMode.full_refresh)

        self.assertEqual(records_of(output), [])

    @HttpMocker()
    def test_follows_next_page_until_has_more_is_false(self, http_mocker: HttpMocker) -> None:
        window = ("2025-03-10T09:00:00Z", "2025-03-10T12:00:00Z")
        http_mocker.get(report_request(STREAM, *window),
                        page(hourly_bucket("2025-03-10T09", usage_row(output_tokens=9)), next_page="page_MTA="))
        http_mocker.get(report_request(STREAM, *window, page="page_MTA="),
                        page(hourly_bucket("2025-03-10T10"), hourly_bucket("2025-03-10T11", usage_row(output_tokens=11))))

        output = read_stream(STREAM, config(hourly_start_date="2025-03-10T09:00:00Z"), sync_mode=SyncMode.full_refresh)

        self.assertEqual([r["output_tokens"] for r in records_of(output)], [9, 11])

    def test_more_pages_than_a_window_has_hours_ends_the_sync(self) -> None:
        """Given a two-hour window whose server pages on with a new token after each page, Then the second page's
        has_more ends the sync: two hours hold at most two buckets, so at most two pages."""
        window = ("2025-03-10T10:00:00Z", "2025-03-10T12:00:00Z")
        with HttpMocker() as http_mocker:
            http_mocker.get(report_request(STREAM, *window), page(hourly_bucket("2025-03-10T10"), next_page="page_1"))
            http_mocker.get(report_request(STREAM, *window, page="page_1"),
                            page(hourly_bucket("2025-03-10T11"), next_page="page_2"))

            output = read_stream(STREAM, config(hourly_start_date="2025-03-10T10:00:00Z"),
                                 sync_mode=SyncMode.full_refresh, expecting_exception=True)

        error = output.errors[0].trace.error
        self.assertEqual(error.failure_type, FailureType.system_error)
        self.assertIn("more pages than its 2 hours of buckets can fill", error.message)


@freezegun.freeze_time(NOW)
class TestRecords(TestCase):
    @HttpMocker()
    def test_a_row_becomes_the_record_messages_usage_makes_of_it_with_its_hour(self, http_mocker: HttpMocker) -> None:
        """Given the same result row in an hourly and in a daily bucket, Then the two records differ only in the
        bucket's bounds and row_key: the fields of messages_usage, flattened alike."""
        row = usage_row(uncached_input_tokens=1500, cache_read_input_tokens=200, output_tokens=500,
                        cache_creation={"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
                        server_tool_use={"web_search_requests": 10}, model="claude-opus-4-1", workspace_id="wrkspc_01",
                        api_key_id="apikey_01", service_tier="standard", context_window="0-200k")
        http_mocker.get(*whole_window(STREAM, "2025-03-10T11:00:00Z", "2025-03-10T12:00:00Z",
                                      hourly_bucket("2025-03-10T11", row)))
        http_mocker.get(*whole_window("messages_usage", "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-09", row)))

        [hourly] = records_of(read_stream(STREAM, config(hourly_start_date="2025-03-10T11:00:00Z"),
                                          sync_mode=SyncMode.full_refresh))
        [daily] = records_of(read_stream("messages_usage", config(start_date="2025-03-09"),
                                         sync_mode=SyncMode.full_refresh))

        self.assertEqual((hourly["starting_at"], hourly["ending_at"]), ("2025-03-10T11:00:00Z", "2025-03-10T12:00:00Z"))
        bounds = ("starting_at", "ending_at", "row_key")
        self.assertEqual({k: v for k, v in hourly.items() if k not in bounds},
                         {k: v for k, v in daily.items() if k not in bounds})
        self.assertEqual(hourly["cache_creation_ephemeral_1h_input_tokens"], 1000)
        self.assertRegex(hourly["row_key"], r"^[0-9a-f]{32}$")

    @HttpMocker()
    def test_one_record_per_row_of_each_hour_each_with_its_own_key(self, http_mocker: HttpMocker) -> None:
        """Given the same groups in three consecutive hours, Then each hour's rows are records with distinct keys."""
        groups = [usage_row(model="m", api_key_id=key, output_tokens=1) for key in ("k1", "k2")]
        http_mocker.get(*whole_window(STREAM, "2025-03-10T09:00:00Z", "2025-03-10T12:00:00Z",
                                      *(hourly_bucket(f"2025-03-10T{hour}", *groups) for hour in ("09", "10", "11"))))

        records = records_of(read_stream(STREAM, config(hourly_start_date="2025-03-10T09:00:00Z"),
                                         sync_mode=SyncMode.full_refresh))

        self.assertEqual(len(records), 6)
        self.assertEqual(len({r["row_key"] for r in records}), 6)


@freezegun.freeze_time(NOW)
class TestIncremental(TestCase):
    @HttpMocker()
    def test_state_is_the_last_hour_read_with_or_without_rows(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window(STREAM, "2025-03-10T08:00:00Z", "2025-03-10T12:00:00Z",
                                      hourly_bucket("2025-03-10T09", usage_row(output_tokens=1)),
                                      hourly_bucket("2025-03-10T11")))

        output = read_stream(STREAM, config(hourly_start_date="2025-03-10T08:00:00Z"))

        self.assertEqual(states_of(output)[-1], "2025-03-10T11:00:00Z")

    @HttpMocker()
    def test_each_window_read_whole_checkpoints_its_last_hour(self, http_mocker: HttpMocker) -> None:
        """Given eight days to read, Then the first window checkpoints its 168th hour, the second the last whole one."""
        http_mocker.get(*whole_window(STREAM, "2025-03-02T00:00:00Z", "2025-03-09T00:00:00Z"))
        http_mocker.get(*whole_window(STREAM, "2025-03-09T00:00:00Z", "2025-03-10T12:00:00Z"))

        output = read_stream(STREAM, config(hourly_start_date="2025-03-02"))

        self.assertEqual(list(dict.fromkeys(states_of(output))), ["2025-03-08T23:00:00Z", "2025-03-10T11:00:00Z"])

    @HttpMocker()
    def test_resumes_the_lookback_hours_before_the_state(self, http_mocker: HttpMocker) -> None:
        """Given state 11:00 and lookback 5 hours, Then the sync re-reads from 06:00: one request."""
        http_mocker.get(*whole_window(STREAM, "2025-03-10T06:00:00Z", "2025-03-10T12:00:00Z",
                                      hourly_bucket("2025-03-10T11", usage_row(output_tokens=5))))

        output = read_stream(STREAM, config(hourly_lookback_window_hours=5), state={"starting_at": "2025-03-10T11:00:00Z"})

        self.assertEqual([r["output_tokens"] for r in records_of(output)], [5])

    @HttpMocker()
    def test_the_lookback_defaults_to_118_hours_reaching_before_the_day_messages_usage_re_reads_from(
            self, http_mocker: HttpMocker) -> None:
        """Given state 11:00 and no hourly lookback, Then the sync re-reads 118 hours, from 03-05T13:00: before 03-06,
        where messages_usage (state 03-09, lookback 3 days) re-reads from."""
        http_mocker.get(*whole_window(STREAM, "2025-03-05T13:00:00Z", "2025-03-10T12:00:00Z"))

        read_stream(STREAM, config(), state={"starting_at": "2025-03-10T11:00:00Z"})

    @HttpMocker()
    def test_at_the_latest_hour_of_a_day_the_default_lookback_starts_where_messages_usage_re_reads_from(
            self, http_mocker: HttpMocker) -> None:
        """Given a sync at 23:34 after one at 23:34 the day before (hourly state 03-09T22:00, daily state 03-08) and
        lookback_window_days 5, Then both streams re-read from 03-03T00:00: the hourly lookback (24 x 5 + 46 = 166
        hours) reaches the first day messages_usage re-reads however late the syncs run."""
        with freezegun.freeze_time("2025-03-10T23:34:56Z"):
            http_mocker.get(*whole_window(STREAM, "2025-03-03T00:00:00Z", "2025-03-10T00:00:00Z"))
            http_mocker.get(*whole_window(STREAM, "2025-03-10T00:00:00Z", "2025-03-10T23:00:00Z"))
            http_mocker.get(*whole_window("messages_usage", "2025-03-03T00:00:00Z", "2025-03-10T00:00:00Z"))

            read_stream(STREAM, config(lookback_window_days=5), state={"starting_at": "2025-03-09T22:00:00Z"})
            read_stream("messages_usage", config(lookback_window_days=5), state={"starting_at": "2025-03-08T00:00:00Z"})

    @HttpMocker()
    def test_a_day_old_state_reads_only_the_lookback_and_the_new_hours(self, http_mocker: HttpMocker) -> None:
        """Given a state 26 hours old, Then one request reads the 118 lookback hours and the 26 new ones."""
        http_mocker.get(*whole_window(STREAM, "2025-03-04T12:00:00Z", "2025-03-10T12:00:00Z"))

        output = read_stream(STREAM, config(), state={"starting_at": "2025-03-09T10:00:00Z"})

        self.assertEqual(states_of(output)[-1], "2025-03-10T11:00:00Z")

    @HttpMocker()
    def test_zero_lookback_rereads_the_state_hour_only(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window(STREAM, "2025-03-10T11:00:00Z", "2025-03-10T12:00:00Z"))

        read_stream(STREAM, config(hourly_lookback_window_hours=0), state={"starting_at": "2025-03-10T11:00:00Z"})

    @HttpMocker()
    def test_a_state_inside_an_hour_is_moved_to_its_hour(self, http_mocker: HttpMocker) -> None:
        """Given a hand-edited state 09:27:13+01:00 (08:27:13 UTC), Then it is read as 08:00 UTC, minus the lookback."""
        http_mocker.get(*whole_window(STREAM, "2025-03-10T06:00:00Z", "2025-03-10T12:00:00Z"))

        read_stream(STREAM, config(hourly_lookback_window_hours=2), state={"starting_at": "2025-03-10T09:27:13+01:00"})

    @HttpMocker()
    def test_a_state_past_the_last_whole_hour_is_read_as_it_with_a_warning(self, http_mocker: HttpMocker) -> None:
        """Given a state of the unfinished hour (12:00), Then it is read as 11:00, the last hour that has ended."""
        http_mocker.get(*whole_window(STREAM, "2025-03-10T10:00:00Z", "2025-03-10T12:00:00Z"))

        # The package says it when it builds the source (it refuses bad state before reading), so it is logged.
        with self.assertLogs("airbyte", level="WARNING") as logged:
            read_stream(STREAM, config(hourly_lookback_window_hours=1), state={"starting_at": "2025-03-10T12:00:00Z"})

        self.assertTrue(any("which is past the newest hour there is to read: this sync reads it as "
                            "2025-03-10T11:00:00Z" in warning for warning in logged.output), logged.output)

    @HttpMocker()
    def test_the_lookback_never_reaches_before_hourly_start_date(self, http_mocker: HttpMocker) -> None:
        """(A start_date of 10:00 today would do the same, but the package refuses it: no whole day for the others.)"""
        http_mocker.get(*whole_window(STREAM, "2025-03-10T10:00:00Z", "2025-03-10T12:00:00Z"))

        read_stream(STREAM, config(hourly_start_date="2025-03-10T10:00:00Z"), state={"starting_at": "2025-03-10T11:00:00Z"})

    @HttpMocker()
    def test_a_state_older_than_the_default_30_days_is_read_on_from(self, http_mocker: HttpMocker) -> None:
        """Given a state of 01-09 11:00 (two months old) and no hourly_start_date, Then the sync reads from the
        state's lookback, not from 30 days ago: the 30 days apply to a stream without state only."""
        http_mocker.get(*whole_window(STREAM, "2025-01-09T09:00:00Z", "2025-01-09T13:00:00Z"))

        read_stream(STREAM, config(hourly_lookback_window_hours=2, end_date="2025-01-09T13:30:00Z"),
                    state={"starting_at": "2025-01-09T11:00:00Z"})

    @pytest.mark.package_only  # the manifest-only runtime resumes a full refresh from the state ("Where it runs")
    @HttpMocker()
    def test_full_refresh_reads_the_default_30_days_whatever_the_state(self, http_mocker: HttpMocker) -> None:
        """Given a saved state and full refresh, Then the 30 days before the last whole hour are read, as on a first
        sync (the state is not handed to a stream read in full refresh)."""
        edges = ["2025-02-08T12", "2025-02-15T12", "2025-02-22T12", "2025-03-01T12", "2025-03-08T12", "2025-03-10T12"]
        for start, end in zip(edges, edges[1:]):
            http_mocker.get(*whole_window(STREAM, f"{start}:00:00Z", f"{end}:00:00Z"))

        read_stream(STREAM, config(), state={"starting_at": "2025-03-10T11:00:00Z"}, sync_mode=SyncMode.full_refresh)
