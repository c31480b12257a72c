"""claude_code_usage and claude_code_model_usage: GET /v1/organizations/usage_report/claude_code.

What the manifest promises for these streams:
- one request per UTC day, starting_at=YYYY-MM-DD, limit=1000, next_page sent back as page until has_more is false;
  with both streams selected each page is still requested once, and both streams' records come from it;
- claude_code_usage: one flat record per actor, day, terminal and remote flag; every tool in tool_actions, known or
  new, becomes <tool>_accepted and <tool>_rejected; `date` is YYYY-MM-DD whichever form the API sends;
- claude_code_model_usage: one record per model of each of those, with the exact USD of the estimated cost in cents;
- incremental on the day, re-reading claude_code_lookback_window_days (default 4) before the state, which is the last
  day read (today), with or without records;
- a key or organization that cannot read the report (403, 404) skips these streams with a warning, the sync goes on.
"""

import json
from pathlib import Path
from unittest import TestCase

import freezegun
import yaml

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from source_claude import SourceClaude
from source_claude.source import MANIFEST
from unit_tests.builders import (
    api_error,
    claude_code_record,
    claude_code_request,
    config,
    read_stream,
    records_of,
)

USAGE, MODELS = "claude_code_usage", "claude_code_model_usage"


def page(*records, next_page=None) -> HttpResponse:
    return HttpResponse(json.dumps({"data": list(records), "has_more": next_page is not None, "next_page": next_page}))


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestClaudeCodeUsage(TestCase):
    @HttpMocker()
    def test_one_request_per_day_through_today(self, http_mocker: HttpMocker) -> None:
        for day in ("2025-03-08", "2025-03-09", "2025-03-10"):
            http_mocker.get(claude_code_request(day), page(claude_code_record(day)))

        records = records_of(read_stream(USAGE, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))

        self.assertEqual([r["date"] for r in records], ["2025-03-08", "2025-03-09", "2025-03-10"])

    @HttpMocker()
    def test_follows_next_page(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(claude_code_request("2025-03-10"), page(claude_code_record("2025-03-10"), next_page="page_2"))
        http_mocker.get(claude_code_request("2025-03-10", page="page_2"),
                        page(claude_code_record("2025-03-10", terminal_type="ghostty")))

        records = records_of(read_stream(USAGE, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh))

        self.assertEqual([r["terminal_type"] for r in records], ["vscode", "ghostty"])

    @HttpMocker()
    def test_flattens_a_record_with_known_and_new_tools(self, http_mocker: HttpMocker) -> None:
        record = claude_code_record(
            "2025-03-10",
            actor={"type": "api_actor", "api_key_name": "ci-bot"},
            is_remote=True,
            core_metrics={"num_sessions": 15, "lines_of_code": {"added": 342, "removed": 128},
                          "commits_by_claude_code": 8, "pull_requests_by_claude_code": 2},
            tool_actions={"edit_tool": {"accepted": 25, "rejected": 3}, "bash_tool": {"accepted": 7, "rejected": 1}},
        )
        http_mocker.get(claude_code_request("2025-03-10"), page(record))

        [row] = records_of(read_stream(USAGE, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh))

        expected = {
            "date": "2025-03-10", "actor_type": "api_actor", "actor_api_key_name": "ci-bot",
            "organization_id": "12345678-1234-5678-1234-567812345678", "customer_type": "api",
            "terminal_type": "vscode", "is_remote": True, "num_sessions": 15, "lines_added": 342,
            "lines_removed": 128, "commits_by_claude_code": 8, "pull_requests_by_claude_code": 2,
            "edit_tool_accepted": 25, "edit_tool_rejected": 3, "bash_tool_accepted": 7, "bash_tool_rejected": 1,
            "tool_actions": {"edit_tool": {"accepted": 25, "rejected": 3}, "bash_tool": {"accepted": 7, "rejected": 1}},
        }
        self.assertEqual({k: v for k, v in row.items() if k != "row_key"}, expected)  # nulls are omitted

    @HttpMocker()
    def test_date_is_a_day_in_either_of_the_api_forms(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(claude_code_request("2025-03-10"), page(
            claude_code_record("2025-03-10", date="2025-03-10"),
            claude_code_record("2025-03-10", date="2025-03-10T00:00:00Z", terminal_type="ghostty")))

        records = records_of(read_stream(USAGE, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh))

        self.assertEqual([r["date"] for r in records], ["2025-03-10", "2025-03-10"])

    @HttpMocker()
    def test_an_api_key_name_cut_inside_an_emoji_is_written_with_a_replacement_character(self, http_mocker) -> None:
        """The exact-decimal parse accepts half of a UTF-16 pair, but no runtime writes it: it becomes U+FFFD."""
        actor = {"type": "api_actor", "api_key_name": "ci \ud83d"}
        http_mocker.get(claude_code_request("2025-03-10"), page(claude_code_record("2025-03-10", actor=actor)))

        output = read_stream(USAGE, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh)

        self.assertEqual([r["actor_api_key_name"] for r in records_of(output)], ["ci \ufffd"])
        self.assertEqual(output.errors, [])

    @HttpMocker()
    def test_row_keys_tell_apart_terminals_remote_flags_and_actors(self, http_mocker: HttpMocker) -> None:
        api_actor = {"type": "api_actor", "api_key_name": "dev@example.com"}  # same text as the user's email
        http_mocker.get(claude_code_request("2025-03-10"), page(
            claude_code_record("2025-03-10"),
            claude_code_record("2025-03-10", is_remote=True),
            claude_code_record("2025-03-10", terminal_type=None),
            claude_code_record("2025-03-10", actor=api_actor)))

        records = records_of(read_stream(USAGE, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh))

        self.assertEqual(len({r["row_key"] for r in records}), 4)

    @HttpMocker()
    def test_state_and_the_four_day_default_lookback(self, http_mocker: HttpMocker) -> None:
        for day in ("2025-03-05", "2025-03-06", "2025-03-07", "2025-03-08", "2025-03-09", "2025-03-10"):
            http_mocker.get(claude_code_request(day), page(claude_code_record(day)) if day < "2025-03-10" else page())

        output = read_stream(USAGE, config(), state={"date": "2025-03-09"})

        # Today is the last day read; the next sync reads it again, whatever the lookback, as it reads the state's day.
        self.assertEqual(output.most_recent_state.stream_state.__dict__, {"date": "2025-03-10"})

    @HttpMocker()
    def test_state_moves_past_days_without_usage(self, http_mocker: HttpMocker) -> None:
        """Given an organization that never used Claude Code and state 03-01, When reading, Then the state is the
        last day read (today), not 03-01, so the next sync re-reads a few days instead of every day since."""
        for day in range(25, 29):
            http_mocker.get(claude_code_request(f"2025-02-{day}"), page())
        for day in range(1, 11):
            http_mocker.get(claude_code_request(f"2025-03-{day:02d}"), page())

        output = read_stream(USAGE, config(), state={"date": "2025-03-01"})

        self.assertEqual(output.most_recent_state.stream_state.__dict__, {"date": "2025-03-10"})

    @HttpMocker()
    def test_end_dates_day_is_excluded_as_for_the_reports(self, http_mocker: HttpMocker) -> None:
        """Given end_date 03-09 06:00, When reading from 03-08, Then only 03-08 is asked for: 03-09 has not ended by
        end_date (any other request fails the read)."""
        http_mocker.get(claude_code_request("2025-03-08"), page(claude_code_record("2025-03-08")))

        records = records_of(read_stream(USAGE, config(start_date="2025-03-08", end_date="2025-03-09T06:00:00Z")))

        self.assertEqual([r["date"] for r in records], ["2025-03-08"])

    @HttpMocker()
    def test_a_range_within_one_day_reads_nothing(self, http_mocker: HttpMocker) -> None:
        """Given start_date 03-09 and end_date 03-09 06:00, Then no day ends in the range and nothing is asked for by
        the manifest alone (as the manifest-only runtime and the Builder run it; the package refuses the config)."""
        from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
        from airbyte_cdk.test.entrypoint_wrapper import read

        from source_claude.source import MANIFEST
        from unit_tests.builders import catalog

        user_config = config(start_date="2025-03-09", end_date="2025-03-09T06:00:00Z")
        configured = catalog(USAGE, SyncMode.incremental)
        output = read(YamlDeclarativeSource(path_to_yaml=MANIFEST, catalog=configured, config=user_config),
                      user_config, configured)

        self.assertEqual((records_of(output), output.errors), ([], []))

    @HttpMocker()
    def test_a_saved_date_with_a_time_is_read_as_its_day(self, http_mocker: HttpMocker) -> None:
        """Given a hand-edited state 03-09 05:00, Then the sync starts at 03-09 minus the lookback, asking for whole
        days (starting_at=YYYY-MM-DD), and saves a plain date."""
        for day in ("2025-03-08", "2025-03-09", "2025-03-10"):
            http_mocker.get(claude_code_request(day), page())

        output = read_stream(USAGE, config(claude_code_lookback_window_days=1), state={"date": "2025-03-09T05:00:00Z"})

        self.assertEqual(output.most_recent_state.stream_state.__dict__, {"date": "2025-03-10"})

    @HttpMocker()
    def test_configured_lookback(self, http_mocker: HttpMocker) -> None:
        for day in ("2025-03-08", "2025-03-09", "2025-03-10"):
            http_mocker.get(claude_code_request(day), page())

        read_stream(USAGE, config(claude_code_lookback_window_days=1), state={"date": "2025-03-09"})


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestClaudeCodeModelUsage(TestCase):
    @HttpMocker()
    def test_one_record_per_model_with_exact_usd(self, http_mocker: HttpMocker) -> None:
        breakdown = [
            {"model": "claude-opus-4-1", "tokens": {"input": 45230, "output": 12450, "cache_read": 8790,
                                                   "cache_creation": 2340},
             "estimated_cost": {"amount": 186, "currency": "USD"}},
            {"model": "claude-haiku-4-5", "tokens": {"input": 10, "output": 5, "cache_read": 0, "cache_creation": 0},
             "estimated_cost": {"amount": 12.345678901234567890, "currency": "USD"}},
        ]
        body = json.dumps({"data": [claude_code_record("2025-03-10", model_breakdown=breakdown)],
                           "has_more": False, "next_page": None})
        # Written by hand so the JSON text keeps all its digits (json.dumps of a float would round them).
        body = body.replace("12.345678901234567", "12.345678901234567890")
        http_mocker.get(claude_code_request("2025-03-10"), HttpResponse(body))

        rows = records_of(read_stream(MODELS, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh))

        self.assertEqual([r["model"] for r in rows], ["claude-opus-4-1", "claude-haiku-4-5"])
        self.assertEqual(
            {k: rows[0][k] for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
                                     "estimated_cost_cents", "estimated_cost_usd", "currency", "date")},
            {"input_tokens": 45230, "output_tokens": 12450, "cache_read_tokens": 8790, "cache_creation_tokens": 2340,
             "estimated_cost_cents": 186, "estimated_cost_usd": 1.86, "currency": "USD", "date": "2025-03-10"})
        self.assertEqual(len({r["row_key"] for r in rows}), 2)
        self.assertEqual({r["usage_row_key"] for r in rows}, {rows[0]["usage_row_key"]})

    def test_the_usd_of_a_fractional_cost_is_rounded_to_nine_decimals_on_the_wire(self) -> None:
        from unittest.mock import MagicMock

        from airbyte_cdk.entrypoint import AirbyteEntrypoint
        from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

        from source_claude.components import ShapedRecords

        response = MagicMock()
        response.content = json.dumps({"data": [claude_code_record("2025-03-10", model_breakdown=[
            {"model": "m", "tokens": {}, "estimated_cost": {"amount": 0.1, "currency": "USD"}}])],
            "has_more": False, "next_page": None}).replace("0.1,", "12.345678901234567890,").encode()
        response.status_code = 200
        response.request.url = "https://api.anthropic.com/v1/organizations/usage_report/claude_code?starting_at=2025-03-10"
        # The parameters the manifest gives both Claude Code streams (exact_decimals among them).
        parameters = yaml.safe_load(Path(MANIFEST).read_text())["definitions"]["claude_code_stream_base"]["$parameters"]
        extractor = ShapedRecords(config={}, parameters=parameters, rows="claude_code_model_usage")
        [row] = extractor.extract_records(response)
        line = AirbyteEntrypoint.airbyte_message_to_string(
            AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=MODELS, data=row, emitted_at=0)))

        self.assertIn('"estimated_cost_cents":12.345678901234567890', line)
        # 0.12345678901234567890 USD at 9 decimals, as BigQuery, Redshift and most other warehouses store it.
        self.assertRegex(line, r'"estimated_cost_usd":0\.123456789[,}]')


def model(name: str, cents: int) -> dict:
    return {"model": name, "tokens": {"input": 1, "output": 1, "cache_read": 0, "cache_creation": 0},
            "estimated_cost": {"amount": cents, "currency": "USD"}}


def read_both(user_config):
    """Both Claude Code streams in one sync, as a connection with both selected runs them."""
    catalog = CatalogBuilder().with_stream(USAGE, SyncMode.full_refresh).with_stream(MODELS, SyncMode.full_refresh).build()
    output = read(SourceClaude(catalog=catalog, config=user_config, state=None), user_config, catalog)
    assert not output.errors, output.errors[0].trace.error.internal_message
    return {stream: [m.record.data for m in output.records if m.record.stream == stream] for stream in (USAGE, MODELS)}


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestBothStreams(TestCase):
    @HttpMocker()
    def test_each_page_is_requested_once_for_both_streams(self, http_mocker: HttpMocker) -> None:
        """Given a day of two pages, when both streams are read, then each page is requested once and each stream
        has its records from both pages."""
        first_page, second_page = claude_code_request("2025-03-10"), claude_code_request("2025-03-10", page="page_2")
        http_mocker.get(first_page, page(claude_code_record("2025-03-10", model_breakdown=[model("opus", 186)]),
                                         next_page="page_2"))
        http_mocker.get(second_page, page(claude_code_record("2025-03-10", terminal_type="ghostty",
                                                             model_breakdown=[model("haiku", 12), model("opus", 3)])))

        records = read_both(config(start_date="2025-03-10"))

        http_mocker.assert_number_of_calls(first_page, 1)
        http_mocker.assert_number_of_calls(second_page, 1)
        self.assertEqual([r["terminal_type"] for r in records[USAGE]], ["vscode", "ghostty"])
        self.assertEqual([(r["terminal_type"], r["model"], r["estimated_cost_cents"]) for r in records[MODELS]],
                         [("vscode", "opus", 186), ("ghostty", "haiku", 12), ("ghostty", "opus", 3)])


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestUnreadable(TestCase):
    @HttpMocker()
    def test_a_403_skips_the_stream_with_a_warning_and_no_failure(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(claude_code_request("2025-03-10"), api_error(403, "permission_error", "not for this org"))

        output = read_stream(USAGE, config(start_date="2025-03-10"), sync_mode=SyncMode.full_refresh)

        self.assertEqual(records_of(output), [])
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        self.assertTrue(any(m.startswith("Skipping claude_code_usage: the Admin API answered HTTP 403 or 404")
                            for m in warnings), warnings)
