"""messages_usage: GET /v1/organizations/usage_report/messages, daily buckets grouped by five dimensions.

What the manifest promises for this stream, and these tests hold it to:
- requests carry x-api-key, anthropic-version, bucket_width=1d, limit=31 and the five group_by[] as repeated keys;
- windows are 31 days; each asks for ending_at = window end + 1 s, so no day is lost or read twice at an edge;
- the last window ends at the last midnight UTC (the newest bucket that can have ended), so no request is spent on
  a range that can only come back empty, and ending_at is never in the future;
- next_page is sent back as page until has_more is false;
- one record per result row, flattened, carrying the bucket's bounds and a row_key;
- state is the start of the last bucket read, with or without rows, checkpointed as each window is read whole; an
  incremental sync starts lookback_window_days before it, never before start_date.
"""

from unittest import TestCase

import freezegun

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    bucket, config, page, whole_window, read_one_row, read_stream, records_of, report_request, usage_row,
)

STREAM = "messages_usage"


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestWindowsAndRequests(TestCase):
    @HttpMocker()
    def test_windows_are_31_days_and_ending_at_is_the_next_window_start(self, http_mocker: HttpMocker) -> None:
        """Given start_date 2025-01-01 and now 03-10 12:00, When reading, Then three windows meet exactly at their edges."""
        http_mocker.get(*whole_window(STREAM, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z",
                                      bucket("2025-01-31", usage_row(model="m", output_tokens=1))))
        http_mocker.get(*whole_window(STREAM, "2025-02-01T00:00:00Z", "2025-03-04T00:00:00Z",
                                      bucket("2025-02-01", usage_row(model="m", output_tokens=2))))
        http_mocker.get(*whole_window(STREAM, "2025-03-04T00:00:00Z", "2025-03-10T00:00:00Z"))

        output = read_stream(STREAM, config(), sync_mode=SyncMode.full_refresh)

        self.assertEqual([r["output_tokens"] for r in records_of(output)], [1, 2])

    @HttpMocker()
    def test_a_75_day_range_costs_three_requests(self, http_mocker: HttpMocker) -> None:
        """Given 75 days from start_date to end_date, Then exactly three requests are made (31 + 31 + 13 days)."""
        http_mocker.get(*whole_window(STREAM, "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"))
        http_mocker.get(*whole_window(STREAM, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"))
        http_mocker.get(*whole_window(STREAM, "2025-02-01T00:00:00Z", "2025-02-14T00:00:00Z"))

        read_stream(STREAM, config(start_date="2024-12-01", end_date="2025-02-14"), sync_mode=SyncMode.full_refresh)

    @HttpMocker()
    def test_a_start_date_inside_a_day_starts_at_the_next_midnight(self, http_mocker: HttpMocker) -> None:
        """Given start_date 2025-03-01T06:00+02:00 (04:00 UTC), Then nothing before 2025-03-02T00:00Z is requested."""
        http_mocker.get(*whole_window(STREAM, "2025-03-02T00:00:00Z", "2025-03-10T00:00:00Z"))

        read_stream(STREAM, config(start_date="2025-03-01T06:00:00+02:00"), sync_mode=SyncMode.full_refresh)

    @HttpMocker()
    def test_a_future_end_date_is_read_as_now(self, http_mocker: HttpMocker) -> None:
        """Given end_date in 2030, Then the last request ends at the last midnight UTC (today is unfinished)."""
        http_mocker.get(*whole_window(STREAM, "2025-03-01T00:00:00Z", "2025-03-10T00:00:00Z"))

        read_stream(STREAM, config(start_date="2025-03-01", end_date="2030-01-01"), sync_mode=SyncMode.full_refresh)

    @HttpMocker()
    def test_a_start_date_of_today_makes_no_request(self, http_mocker: HttpMocker) -> None:
        """Given start_date today, Then no bucket can have ended yet and nothing is requested (any request fails)."""
        output = read_stream(STREAM, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh)

        self.assertEqual(records_of(output), [])

    @HttpMocker()
    def test_follows_next_page_until_has_more_is_false(self, http_mocker: HttpMocker) -> None:
        """Given a window answered in three pages, Then each page is asked for with the previous next_page."""
        http_mocker.get(report_request(STREAM, "2025-03-01T00:00:00Z", "2025-03-10T00:00:00Z"),
                        page(bucket("2025-03-01", usage_row(output_tokens=1)), next_page="page_Mg=="))
        http_mocker.get(report_request(STREAM, "2025-03-01T00:00:00Z", "2025-03-10T00:00:00Z", page="page_Mg=="),
                        page(bucket("2025-03-02", usage_row(output_tokens=2)), next_page="page_Mw=="))
        http_mocker.get(report_request(STREAM, "2025-03-01T00:00:00Z", "2025-03-10T00:00:00Z", page="page_Mw=="),
                        page(bucket("2025-03-03", usage_row(output_tokens=3)),
                             *(bucket(f"2025-03-0{day}") for day in range(4, 10))))

        output = read_stream(STREAM, config(start_date="2025-03-01"), sync_mode=SyncMode.full_refresh)

        self.assertEqual([r["output_tokens"] for r in records_of(output)], [1, 2, 3])


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestRecords(TestCase):
    @HttpMocker()
    def test_flattens_every_documented_field(self, http_mocker: HttpMocker) -> None:
        """Given one fully populated result row, Then the record holds every field under its flat name."""
        row = usage_row(
            uncached_input_tokens=1500,
            cache_creation={"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
            cache_read_input_tokens=200,
            output_tokens=500,
            server_tool_use={"web_search_requests": 10},
            model="claude-opus-4-1",
            workspace_id="wrkspc_01",
            api_key_id="apikey_01",
            service_tier="standard",
            context_window="0-200k",
        )
        http_mocker.get(*whole_window(STREAM, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-08", row), bucket("2025-03-09")))

        [record] = records_of(read_stream(STREAM, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))

        expected = {
            "starting_at": "2025-03-08T00:00:00Z",
            "ending_at": "2025-03-09T00:00:00Z",
            "model": "claude-opus-4-1",
            "workspace_id": "wrkspc_01",
            "api_key_id": "apikey_01",
            "service_tier": "standard",
            "context_window": "0-200k",
            "uncached_input_tokens": 1500,
            "cache_read_input_tokens": 200,
            "cache_creation_ephemeral_5m_input_tokens": 500,
            "cache_creation_ephemeral_1h_input_tokens": 1000,
            "output_tokens": 500,
            "web_search_requests": 10,
        }
        self.assertEqual({k: v for k, v in record.items() if k != "row_key"}, expected)
        self.assertRegex(record["row_key"], r"^[0-9a-f]{32}$")

    @HttpMocker()
    def test_null_dimensions_stay_null_and_missing_nested_objects_do_not_fail(self, http_mocker: HttpMocker) -> None:
        """Given the default workspace (null), Console usage (null key) and no cache/tool objects, Then the
        record has no value for them (null in the destination) and is still keyed."""
        row = {"uncached_input_tokens": 7, "output_tokens": 3, "model": "m", "workspace_id": None,
               "api_key_id": None, "cache_creation": None}
        http_mocker.get(*whole_window(STREAM, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-08", row)))

        [record] = records_of(read_stream(STREAM, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))

        # The CDK omits top-level nulls from RECORD messages; destinations store them as null.
        for absent in ("workspace_id", "api_key_id", "cache_creation_ephemeral_5m_input_tokens", "web_search_requests"):
            self.assertIsNone(record.get(absent), absent)
        self.assertEqual((record["uncached_input_tokens"], record["output_tokens"]), (7, 3))
        self.assertIn("row_key", record)

    @HttpMocker()
    def test_unknown_fields_pass_through(self, http_mocker: HttpMocker) -> None:
        """Given a row with fields the docs do not list yet, nested ones too, Then they reach the record instead of
        failing the sync, nested objects flattened at every depth as <parent>_<child>."""
        tools = {"web_search_requests": 1, "web_fetch_requests": 4, "code_execution": {"runs": 2}}
        row = usage_row(model="m", speed="fast", server_tool_use=tools,
                        cache_creation={"ephemeral_5m_input_tokens": 5, "by_region": {"eu": {"tokens": 3}}})
        http_mocker.get(*whole_window(STREAM, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-08", row)))

        [record] = records_of(read_stream(STREAM, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))

        self.assertEqual((record["speed"], record["web_fetch_requests"]), ("fast", 4))
        self.assertEqual((record["code_execution_runs"], record["cache_creation_by_region_eu_tokens"],
                          record["cache_creation_ephemeral_5m_input_tokens"]), (2, 3, 5))
        self.assertFalse({"code_execution", "cache_creation_by_region"} & set(record))

    @HttpMocker()
    def test_rows_differing_in_one_dimension_get_different_keys(self, http_mocker: HttpMocker) -> None:
        """Given rows that differ only in one dimension each (or only in the day), Then all row_keys differ."""
        base = dict(model="m", workspace_id="w", api_key_id="k", service_tier="standard", context_window="0-200k")
        variants = [usage_row(**base)] + [usage_row(**{**base, name: None}) for name in base] + [
            usage_row(**{**base, "model": "None"})
        ]
        http_mocker.get(*whole_window(STREAM, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-08", *variants), bucket("2025-03-09", usage_row(**base))))

        records = records_of(read_stream(STREAM, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))

        self.assertEqual(len(records), 8)
        self.assertEqual(len({r["row_key"] for r in records}), 8)


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestIncremental(TestCase):
    @HttpMocker()
    def test_state_is_the_newest_bucket_read(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window(STREAM, "2025-03-01T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-08", usage_row(output_tokens=1)),
                                      bucket("2025-03-09", usage_row())))

        output = read_stream(STREAM, config(start_date="2025-03-01"))

        self.assertEqual(output.most_recent_state.stream_state.__dict__, {"starting_at": "2025-03-09T00:00:00Z"})

    @HttpMocker()
    def test_resumes_lookback_days_before_the_state(self, http_mocker: HttpMocker) -> None:
        """Given state 03-09 and lookback 3, Then the sync re-reads from 03-06."""
        http_mocker.get(*whole_window(STREAM, "2025-03-06T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-09", usage_row(output_tokens=5))))

        output = read_stream(STREAM, config(lookback_window_days=3), state={"starting_at": "2025-03-09T00:00:00Z"})

        self.assertEqual([r["output_tokens"] for r in records_of(output)], [5])

    @HttpMocker()
    def test_lookback_defaults_to_three_days(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window(STREAM, "2025-03-06T00:00:00Z", "2025-03-10T00:00:00Z"))

        read_stream(STREAM, config(), state={"starting_at": "2025-03-09T00:00:00Z"})

    @HttpMocker()
    def test_zero_lookback_rereads_the_state_day_only(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window(STREAM, "2025-03-09T00:00:00Z", "2025-03-10T00:00:00Z"))

        read_stream(STREAM, config(lookback_window_days=0), state={"starting_at": "2025-03-09T00:00:00Z"})

    @HttpMocker()
    def test_lookback_never_reaches_before_start_date(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window(STREAM, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z"))

        read_stream(STREAM, config(start_date="2025-03-08", lookback_window_days=10),
                    state={"starting_at": "2025-03-09T00:00:00Z"})

    @HttpMocker()
    def test_state_moves_past_days_without_usage(self, http_mocker: HttpMocker) -> None:
        """Given state 03-01 and no usage since, When reading, Then the state is the last bucket read (03-09), so the
        next sync re-reads only its lookback instead of every day since 03-01."""
        http_mocker.get(*whole_window(STREAM, "2025-02-26T00:00:00Z", "2025-03-10T00:00:00Z",
                                      *(bucket(f"2025-03-0{day}") for day in range(1, 10))))

        output = read_stream(STREAM, config(), state={"starting_at": "2025-03-01T00:00:00Z"})

        self.assertEqual(output.most_recent_state.stream_state.__dict__, {"starting_at": "2025-03-09T00:00:00Z"})

    @HttpMocker()
    def test_each_window_read_whole_checkpoints_its_last_bucket(self, http_mocker: HttpMocker) -> None:
        """Given usage only on 01-01 and three windows, Then each window ends with a state at its last bucket."""
        http_mocker.get(*whole_window(STREAM, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z",
                                      bucket("2025-01-01", usage_row(output_tokens=1))))
        http_mocker.get(*whole_window(STREAM, "2025-02-01T00:00:00Z", "2025-03-04T00:00:00Z"))
        http_mocker.get(*whole_window(STREAM, "2025-03-04T00:00:00Z", "2025-03-10T00:00:00Z"))

        output = read_stream(STREAM, config())

        states = [message.state.stream.stream_state.__dict__["starting_at"] for message in output.state_messages]
        # (The CDK repeats the last state when the stream ends.)
        self.assertEqual(list(dict.fromkeys(states)),
                         ["2025-01-31T00:00:00Z", "2025-03-03T00:00:00Z", "2025-03-09T00:00:00Z"])


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestKeysThatAppearOverTime(TestCase):
    """Recorded from the live API: older days lack keys newer days carry (inference_geo, account_id,
    service_account_id), absent rather than null. The records, row_key included, must not tell the two apart."""

    def test_an_absent_key_reads_as_a_null_one(self) -> None:
        with_nulls = usage_row(model="m", api_key_id="k", output_tokens=4)
        without_keys = {name: value for name, value in with_nulls.items()
                        if name not in ("inference_geo", "account_id", "service_account_id")}

        self.assertEqual(read_one_row(STREAM, without_keys), read_one_row(STREAM, with_nulls))
