"""usage_analytics and cost_analytics: GET /v1/organizations/analytics/usage and /cost (beta), flat daily rows.

What the manifest promises for these streams:
- every request carries `anthropic-beta: analytics-usage-cost-2026-08-24`, `time_bucket_width=1d`, `limit=1000`
  and the grouping (by default API key, actor, workspace and model; cost also cost_type and token_type);
- each row is one record: every `group` member a column, a nested object also `<name>_<member>` columns (at every
  depth), the metrics flattened as messages_usage's; unknown members pass through;
- `row_key` is the bucket start and every grouped value, nulls distinct;
- `amount` and `list_amount` stay the API's decimal text in cents, with exact `amount_usd` and `list_amount_usd`;
- a bucket that ends after `data_refreshed_at` is neither emitted nor checkpointed;
- an expired page cursor (HTTP 410) reads the window again from its first page, emitting no row twice.
"""

import json
from typing import Any, Dict, List, Mapping, Optional
from unittest import TestCase

import freezegun

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.builders import ADMIN_KEY, API_URL, api_error, config, read_stream, records_of

BETA = "analytics-usage-cost-2026-08-24"
URLS = {"usage_analytics": f"{API_URL}/v1/organizations/analytics/usage",
        "cost_analytics": f"{API_URL}/v1/organizations/analytics/cost"}
GROUP_BY = {"usage_analytics": ["api_key_id", "actor", "workspace_id", "model"],
            "cost_analytics": ["api_key_id", "actor", "workspace_id", "model", "cost_type", "token_type"]}
USER = {"type": "user_actor", "user_id": "user_01A", "email_address": "a@example.com", "name": "A", "deleted": False}


def analytics_request(stream: str, starting_at: str = "2026-03-08T00:00:00Z", ending_at: str = "2026-03-10T00:00:00Z",
                      page_token: Optional[str] = None, group_by: Optional[List[str]] = None) -> HttpRequest:
    query: Dict[str, Any] = {"time_bucket_width": "1d", "limit": "1000", "group_by[]": group_by or GROUP_BY[stream],
                             "starting_at": starting_at, "ending_at": ending_at}
    if page_token:
        query["page"] = page_token
    return HttpRequest(URLS[stream], query_params=query,
                       headers={"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01", "anthropic-beta": BETA})


def row(day: str, metrics_name: str, metrics: Mapping[str, Any], **group: Any) -> Dict[str, Any]:
    return {"starting_at": f"{day}T00:00:00Z", "ending_at": f"{day[:8]}{int(day[8:]) + 1:02d}T00:00:00Z",
            "group": group, metrics_name: dict(metrics)}


def analytics_page(*rows: Mapping[str, Any], next_page: Optional[str] = None,
                   refreshed: Any = "2026-03-10T08:00:00Z") -> HttpResponse:
    body: Dict[str, Any] = {"data": list(rows), "has_more": next_page is not None, "next_page": next_page}
    if refreshed is not None:
        body["data_refreshed_at"] = refreshed
    return HttpResponse(json.dumps(body), 200)


def raw_page(text: str) -> HttpResponse:
    return HttpResponse(text, 200)


USAGE = {"uncached_input_tokens": 10, "cache_read_input_tokens": 20,
         "cache_creation": {"ephemeral_1h_input_tokens": 30, "ephemeral_5m_input_tokens": 40},
         "output_tokens": 50, "server_tool_use": {"web_search_requests": 6}, "requests": 7}


@freezegun.freeze_time("2026-03-10T12:00:00Z")
class TestAnalyticsRows(TestCase):
    def read(self, stream: str, *responses: Any, **config_overrides: Any) -> List[Dict[str, Any]]:
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request(stream), list(responses) if len(responses) > 1 else responses[0])
            output = read_stream(stream, config(start_date="2026-03-08", **config_overrides),
                                 sync_mode=SyncMode.full_refresh)
        return records_of(output)

    def test_usage_rows_flatten_group_nested_actor_and_metrics(self) -> None:
        """Given a usage row grouped by actor and model, when read, then every group member is a column, the actor's
        members are actor_<member> columns, and the metrics are named as in messages_usage."""
        [record] = self.read("usage_analytics",
                             analytics_page(row("2026-03-08", "usage", USAGE, actor=USER, actor_type=None,
                                                model="claude-opus-5", api_key_id=None)))

        assert record["model"] == "claude-opus-5" and record.get("api_key_id") is None
        assert record["actor"] == USER
        assert (record["actor_user_id"], record["actor_email_address"], record["actor_deleted"]) == (
            "user_01A", "a@example.com", False)
        # actor_type is the dimension's own column: the actor's `type` does not overwrite it.
        assert record.get("actor_type") is None
        assert {name: record[name] for name in (
            "uncached_input_tokens", "cache_read_input_tokens", "cache_creation_ephemeral_1h_input_tokens",
            "cache_creation_ephemeral_5m_input_tokens", "output_tokens", "web_search_requests", "requests")} == {
            "uncached_input_tokens": 10, "cache_read_input_tokens": 20, "cache_creation_ephemeral_1h_input_tokens": 30,
            "cache_creation_ephemeral_5m_input_tokens": 40, "output_tokens": 50, "web_search_requests": 6,
            "requests": 7}
        assert (record["starting_at"], record["ending_at"]) == ("2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z")

    def test_unknown_members_pass_through(self) -> None:
        """Given a dimension, a metric and a row member this connector does not know, then each is a column; nested
        ones at every depth as <parent>_<child> (a metric's without the metrics object's name, as the others)."""
        metrics = {**USAGE, "thinking_tokens": 3, "cache_creation": {**USAGE["cache_creation"], "by_tier": {"fast": 8}}}
        actor = {**USER, "organization": {"id": "org_1", "plan": {"name": "enterprise"}}}
        unknown = row("2026-03-08", "usage", metrics, model="m", session_id="sess_1", actor=actor)
        unknown["region_note"] = "new"
        [record] = self.read("usage_analytics", analytics_page(unknown))

        assert (record["session_id"], record["thinking_tokens"], record["region_note"]) == ("sess_1", 3, "new")
        assert (record["cache_creation_by_tier_fast"], record["actor_organization_id"],
                record["actor_organization_plan_name"]) == (8, "org_1", "enterprise")
        assert "cache_creation_by_tier" not in record and "actor_organization" not in record
        assert record["actor"] == actor

    def test_a_group_member_named_like_a_field_of_the_record_is_a_group_column_and_overwrites_nothing(self) -> None:
        """Given group members named starting_at, ending_at, row_key, output_tokens and amount_usd, or an object whose
        <name>_<member> column is cache_read_input_tokens, Then the record's own fields keep their values (the bucket,
        its key, the metrics, the USD), and each such member is group_<column>."""
        clash = {"starting_at": "x1", "ending_at": "x2", "row_key": "x3", "output_tokens": "x4", "model": "m",
                 "cache": {"read_input_tokens": "x6"}}
        [usage] = self.read("usage_analytics", analytics_page(row("2026-03-08", "usage", USAGE, **clash)))
        [plain] = self.read("usage_analytics", analytics_page(row("2026-03-08", "usage", USAGE, model="m")))
        cost = {"amount": "250", "currency": "USD", "list_amount": "300", "requests": 1}
        [money] = self.read("cost_analytics", analytics_page(row("2026-03-08", "cost", cost, amount_usd="x5",
                                                                 requests="x7")))

        assert (usage["starting_at"], usage["ending_at"], usage["output_tokens"], usage["cache_read_input_tokens"]) == (
            "2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z", 50, 20)
        assert len(usage["row_key"]) == 32 and usage["row_key"] != plain["row_key"] and usage["model"] == "m"
        assert usage["cache"] == {"read_input_tokens": "x6"}
        assert {name: usage[name] for name in usage if name.startswith("group_")} == {
            "group_starting_at": "x1", "group_ending_at": "x2", "group_row_key": "x3", "group_output_tokens": "x4",
            "group_cache_read_input_tokens": "x6"}
        assert (money["amount_usd"], money["requests"]) == (2.5, 1)
        assert (money["group_amount_usd"], money["group_requests"]) == ("x5", "x7")

    def test_cost_money_stays_exact_decimal_text_with_usd_at_nine_decimals(self) -> None:
        cost = {"amount": "12345.678901234567890123", "currency": "USD", "list_amount": "13000.5", "requests": None}
        [record] = self.read("cost_analytics", analytics_page(row("2026-03-08", "cost", cost, cost_type="tokens",
                                                                  token_type="output_tokens", api_key_id="apikey_1")))

        assert (record["amount"], record["list_amount"], record["currency"]) == (
            "12345.678901234567890123", "13000.5", "USD")
        # 123.45678901234567890123 USD at 9 decimals; the test harness reads it back as a float to compare its text.
        assert str(record["amount_usd"]) == "123.456789012"
        assert record["list_amount_usd"] == 130.005
        assert (record["cost_type"], record["token_type"], record["api_key_id"]) == ("tokens", "output_tokens",
                                                                                     "apikey_1")

    def test_cost_amounts_sent_as_json_numbers_arrive_as_their_exact_decimal_text(self) -> None:
        text = ('{"data": [{"starting_at": "2026-03-08T00:00:00Z", "ending_at": "2026-03-09T00:00:00Z", '
                '"group": {"model": "m"}, "cost": {"amount": 0.1000000000000000055511, "currency": "USD", '
                '"list_amount": 125, "requests": 3}}], "has_more": false, "next_page": null}')
        [record] = self.read("cost_analytics", raw_page(text))

        assert (record["amount"], record["list_amount"]) == ("0.1000000000000000055511", "125")

    def test_row_key_is_the_bucket_start_and_every_grouped_value_with_nulls_distinct(self) -> None:
        rows = [row("2026-03-08", "usage", USAGE, model=None, workspace_id="x"),
                row("2026-03-08", "usage", USAGE, model="None", workspace_id="x"),
                row("2026-03-08", "usage", USAGE, model="", workspace_id="x"),
                row("2026-03-08", "usage", USAGE, model=None, workspace_id=None),
                row("2026-03-09", "usage", USAGE, model=None, workspace_id="x"),
                row("2026-03-08", "usage", USAGE, actor=USER),
                row("2026-03-08", "usage", USAGE, actor={**USER, "user_id": "user_01B"})]
        records = self.read("usage_analytics", analytics_page(*rows))

        assert len({record["row_key"] for record in records}) == 7

    def test_an_actor_keeps_its_row_key_when_its_name_changes(self) -> None:
        """A user renamed (or deleted) between two reads of a day in the lookback must not make a second row."""
        [before] = self.read("usage_analytics", analytics_page(row("2026-03-08", "usage", USAGE, actor=USER)))
        renamed = {**USER, "name": "A. Person", "deleted": True}
        [after] = self.read("usage_analytics", analytics_page(row("2026-03-08", "usage", USAGE, actor=renamed)))

        assert before["row_key"] == after["row_key"]

    def test_rows_of_a_bucket_ending_after_data_refreshed_at_are_held_back(self) -> None:
        """Given data refreshed up to 2026-03-09T06:00Z, the bucket of 03-09 (ending 03-10) is not settled: not
        emitted; the bucket of 03-08 is."""
        records = self.read("usage_analytics",
                            analytics_page(row("2026-03-08", "usage", USAGE, model="a"),
                                           row("2026-03-09", "usage", USAGE, model="a"),
                                           refreshed="2026-03-09T06:00:00Z"))

        assert [record["starting_at"] for record in records] == ["2026-03-08T00:00:00Z"]

    def test_rows_outside_the_window_asked_for_are_dropped_with_one_warning(self) -> None:
        """Given the window [03-08, 03-10) answered with rows of 03-07, 03-08 and 03-10, then only 03-08's is emitted,
        and one warning names the first row dropped, the window asked for and the path."""
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request("usage_analytics"), analytics_page(
                *(row(day, "usage", USAGE, model="a") for day in ("2026-03-07", "2026-03-08", "2026-03-10"))))
            output = read_stream("usage_analytics", config(start_date="2026-03-08"), sync_mode=SyncMode.full_refresh)

        assert [record["starting_at"] for record in records_of(output)] == ["2026-03-08T00:00:00Z"]
        [warning] = [log.log.message for log in output.logs if log.log.message.startswith("Dropped")]
        assert warning.startswith("Dropped a row of 2026-03-07T00:00:00Z, which the Anthropic Admin API returned for a "
                                  "request of 2026-03-08T00:00:00Z to 2026-03-10T00:00:00Z "
                                  "(/v1/organizations/analytics/usage)"), warning

    def test_a_grouping_of_the_config_is_sent_and_cost_components_group_only_cost(self) -> None:
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request("usage_analytics", group_by=["actor", "model"]),
                            analytics_page(row("2026-03-08", "usage", USAGE, actor=USER, model="m")))
            http_mocker.get(analytics_request("cost_analytics", group_by=["actor", "model", "cost_type"]),
                            analytics_page())
            user_config = config(start_date="2026-03-08", analytics_group_by=["actor", "model", "cost_type"])
            usage = records_of(read_stream("usage_analytics", user_config, sync_mode=SyncMode.full_refresh))
            cost = records_of(read_stream("cost_analytics", user_config, sync_mode=SyncMode.full_refresh))

        assert (len(usage), cost) == (1, [])


@freezegun.freeze_time("2026-03-10T12:00:00Z")
class TestAnalyticsPagesAndState(TestCase):
    def test_an_expired_cursor_reads_the_window_again_from_its_first_page_without_a_row_twice(self) -> None:
        """Given page 2 answers 410, when read, then page 1 is asked for again and, of its rows, only those not yet
        emitted are; the pages after it are read as usual."""
        first = [row("2026-03-08", "usage", USAGE, model="a"), row("2026-03-08", "usage", USAGE, model="b")]
        refreshed_first = [row("2026-03-08", "usage", {**USAGE, "output_tokens": 99}, model="a"),
                           row("2026-03-08", "usage", USAGE, model="b")]
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request("usage_analytics"),
                            [analytics_page(*first, next_page="old2"),
                             analytics_page(*refreshed_first, next_page="new2")])
            http_mocker.get(analytics_request("usage_analytics", page_token="old2"),
                            api_error(410, "invalid_request_error", "cursor expired"))
            http_mocker.get(analytics_request("usage_analytics", page_token="new2"),
                            analytics_page(row("2026-03-09", "usage", USAGE, model="a")))
            output = read_stream("usage_analytics", config(start_date="2026-03-08"))

        records = records_of(output)
        assert [(r["starting_at"][:10], r["model"]) for r in records] == [
            ("2026-03-08", "a"), ("2026-03-08", "b"), ("2026-03-09", "a")]
        assert output.most_recent_state.stream_state.starting_at == "2026-03-09T00:00:00Z"
        said = [log.log.message for log in output.logs if "HTTP 410" in log.log.message]
        assert said == ["The page cursor of usage_analytics for 2026-03-08 to 2026-03-09 expired (HTTP 410): reading "
                        "the window again from its first page, without emitting the rows already read."], said

    def test_a_row_held_back_before_a_restart_is_not_claimed_by_the_state_after_it(self) -> None:
        """Given page 1 names data refreshed at 03-09T06Z (03-09 held back) and page 2 answers 410, when the window's
        first page, read again, names a later refresh, then 03-09 (read, not emitted, before the restart) is skipped
        as read before, and the state stays on 03-08, so a later sync reads it."""
        first = [row("2026-03-08", "usage", USAGE, model="a"), row("2026-03-09", "usage", USAGE, model="a")]
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request("usage_analytics"),
                            [analytics_page(*first, next_page="old2", refreshed="2026-03-09T06:00:00Z"),
                             analytics_page(*first, refreshed="2026-03-10T08:00:00Z")])
            http_mocker.get(analytics_request("usage_analytics", page_token="old2"),
                            api_error(410, "invalid_request_error", "cursor expired"))
            output = read_stream("usage_analytics", config(start_date="2026-03-08"))

        assert [r["starting_at"][:10] for r in records_of(output)] == ["2026-03-08"]
        assert output.most_recent_state.stream_state.starting_at == "2026-03-08T00:00:00Z"

    def test_a_cursor_that_keeps_expiring_ends_the_sync_in_one_sentence_after_three_restarts(self) -> None:
        """Given page 2 answers 410 every time, the window's first page is read 4 times (3 restarts), its row emitted
        once, and the sync ends in one sentence."""
        first_page = analytics_request("usage_analytics")
        with HttpMocker() as http_mocker:
            http_mocker.get(first_page, analytics_page(row("2026-03-08", "usage", USAGE, model="a"), next_page="p2"))
            http_mocker.get(analytics_request("usage_analytics", page_token="p2"),
                            api_error(410, "invalid_request_error", "cursor expired"))
            output = read_stream("usage_analytics", config(start_date="2026-03-08"), expecting_exception=True)
            http_mocker.assert_number_of_calls(first_page, 4)

        assert [r["model"] for r in records_of(output)] == ["a"]
        assert output.errors[0].trace.error.message.startswith(
            "The Anthropic Admin API kept answering usage_analytics for 2026-03-08 to 2026-03-09 with HTTP 410 (its "
            "page cursor expired as the data was refreshed) after 3 restarts from the window's first page: run the "
            "sync again later, once the refresh is done."), output.errors[0].trace.error.message

    def test_a_410_on_a_first_page_does_not_loop(self) -> None:
        """A first page has no cursor: its 410 is asked again at most 3 times, then ends the sync in one sentence."""
        first_page = analytics_request("cost_analytics")
        with HttpMocker() as http_mocker:
            http_mocker.get(first_page, api_error(410, "invalid_request_error", "gone"))
            output = read_stream("cost_analytics", config(start_date="2026-03-08"), expecting_exception=True)
            http_mocker.assert_number_of_calls(first_page, 4)

        assert not records_of(output)
        assert output.errors[0].trace.error.message.startswith(
            "The Anthropic Admin API kept answering cost_analytics for 2026-03-08 to 2026-03-09 with HTTP 410"), \
            output.errors[0].trace.error.message

    def test_the_state_stops_before_the_first_bucket_ending_after_data_refreshed_at(self) -> None:
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request("usage_analytics"),
                            analytics_page(row("2026-03-08", "usage", USAGE, model="a"),
                                           refreshed="2026-03-09T06:00:00Z"))
            output = read_stream("usage_analytics", config(start_date="2026-03-08"))

        assert output.most_recent_state.stream_state.starting_at == "2026-03-08T00:00:00Z"

    def test_days_held_back_by_a_data_refreshed_at_in_the_past_are_counted_in_one_warning(self) -> None:
        """Given start_date 02-01 and data refreshed at 03-01T06:00Z, When reading two windows, Then the 9 days from
        03-01 to 03-09 are held back (no row, state 02-28), and one warning says so, and why."""
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request("usage_analytics", "2026-02-01T00:00:00Z", "2026-03-04T00:00:00Z"),
                            analytics_page(row("2026-02-27", "usage", USAGE, model="a"),
                                           row("2026-03-02", "usage", USAGE, model="a"),
                                           refreshed="2026-03-01T06:00:00Z"))
            http_mocker.get(analytics_request("usage_analytics", "2026-03-04T00:00:00Z", "2026-03-10T00:00:00Z"),
                            analytics_page(row("2026-03-05", "usage", USAGE, model="a"),
                                           refreshed="2026-03-01T06:00:00Z"))
            output = read_stream("usage_analytics", config(start_date="2026-02-01"))

        assert [record["starting_at"] for record in records_of(output)] == ["2026-02-27T00:00:00Z"]
        assert output.most_recent_state.stream_state.starting_at == "2026-02-28T00:00:00Z"
        said = [log.log.message for log in output.logs
                if log.log.level.value == "WARN" and "holds back" in log.log.message]
        assert said == ["usage_analytics holds back 9 days (2026-03-01 to 2026-03-09): the Usage and Cost Analytics "
                        "API says its data was last refreshed at 2026-03-01T06:00:00Z (data_refreshed_at), so those "
                        "days may still change. Their rows are not emitted and the state stays before them; a later "
                        "sync reads them once the API has refreshed its data."], said

    def test_a_data_refreshed_at_before_start_date_holds_back_every_day_and_says_so(self) -> None:
        """The silent case: nothing emitted, and the state never leaves start_date, sync after sync."""
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request("cost_analytics"), analytics_page(refreshed="2026-02-20T00:00:00Z"))
            output = read_stream("cost_analytics", config(start_date="2026-03-08"))

        said = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert [w for w in said if w.startswith("cost_analytics holds back 2 days (2026-03-08 to 2026-03-09)")], said
        assert not output.errors

    def test_a_data_refreshed_at_that_is_not_a_time_with_a_zone_is_ignored_with_one_warning(self) -> None:
        """Given a watermark without a time zone, or not a time at all, on both pages of a window, Then every day is
        read as if none were named (rows emitted, state on the last bucket), with one warning, and no error."""
        for watermark in ("2026-03-09T06:00:00", "not a date", 1773036000):
            with self.subTest(watermark=watermark), HttpMocker() as http_mocker:
                http_mocker.get(analytics_request("usage_analytics"),
                                analytics_page(row("2026-03-08", "usage", USAGE, model="a"), next_page="p2",
                                               refreshed=watermark))
                http_mocker.get(analytics_request("usage_analytics", page_token="p2"),
                                analytics_page(row("2026-03-09", "usage", USAGE, model="a"), refreshed=watermark))
                output = read_stream("usage_analytics", config(start_date="2026-03-08"))

                assert not output.errors, output.errors[0].trace.error.message
                assert [r["starting_at"][:10] for r in records_of(output)] == ["2026-03-08", "2026-03-09"]
                assert output.most_recent_state.stream_state.starting_at == "2026-03-09T00:00:00Z"
                said = [log.log.message for log in output.logs
                        if log.log.level.value == "WARN" and "data_refreshed_at" in log.log.message]
                assert len(said) == 1 and said[0].startswith(f"Ignored the data_refreshed_at {str(watermark)!r}"), said

    def test_a_window_without_rows_is_checkpointed_to_its_last_settled_bucket(self) -> None:
        with HttpMocker() as http_mocker:
            http_mocker.get(analytics_request("cost_analytics"), analytics_page())
            output = read_stream("cost_analytics", config(start_date="2026-03-08"))

        assert output.most_recent_state.stream_state.starting_at == "2026-03-09T00:00:00Z"

    def test_reading_starts_no_earlier_than_2026_and_says_so_once(self) -> None:
        """Given start_date 2025-06-01 on 2026-03-10, the API serves nothing before 2026-01-01: the first window
        starts there, and one info line says why."""
        with HttpMocker() as http_mocker:
            for start, end in (("2026-01-01", "2026-02-01"), ("2026-02-01", "2026-03-04"),
                               ("2026-03-04", "2026-03-10")):
                http_mocker.get(analytics_request("usage_analytics", f"{start}T00:00:00Z", f"{end}T00:00:00Z"),
                                analytics_page())
            output = read_stream("usage_analytics", config(start_date="2025-06-01"))

        said = [log.log.message for log in output.logs if "serves nothing before 2026-01-01" in log.log.message]
        assert len(said) == 1 and "starts at 2026-01-01" in said[0]


@freezegun.freeze_time("2027-03-10T12:00:00Z")
class TestAnalyticsHistoryWindow(TestCase):
    def test_reading_starts_no_earlier_than_365_days_ago(self) -> None:
        """On 2027-03-10T12:00Z, 365 days ago is 2026-03-10T12:00Z: the first whole day inside is 2026-03-11."""
        with HttpMocker() as http_mocker:
            start = "2026-03-11"
            http_mocker.get(analytics_request("usage_analytics", f"{start}T00:00:00Z", "2026-04-11T00:00:00Z"),
                            HttpResponse(json.dumps({"data": [], "has_more": False, "next_page": None}), 200))
            output = read_stream("usage_analytics", config(start_date="2026-01-01", end_date="2026-04-11"))

        assert output.most_recent_state.stream_state.starting_at == "2026-04-10T00:00:00Z"
