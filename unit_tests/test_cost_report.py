"""cost_report: GET /v1/organizations/cost_report, daily buckets grouped by workspace and description.

What the manifest promises for this stream:
- the same windows, pagination and state as messages_usage, with group_by[] = workspace_id, description only;
- amount stays exactly the API's decimal string in cents; amount_usd is amount / 100, exact; an amount the API sends
  as a JSON number instead arrives as the same exact decimal string;
- row_key covers the description and every field parsed from it.
"""

import json
from decimal import Decimal
from unittest import TestCase

import freezegun

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    COST_URL, bucket, config, cost_row, whole_window, read_one_row, read_stream, records_of, report_request,
)

STREAM = "cost_report"


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestCostReport(TestCase):
    @HttpMocker()
    def test_sends_only_the_cost_dimensions_and_keeps_every_field(self, http_mocker: HttpMocker) -> None:
        row = cost_row(
            "123.78912",
            workspace_id="wrkspc_01",
            description="Claude Opus 4.1 Usage - Input Tokens",
            cost_type="tokens",
            model="claude-opus-4-1",
            token_type="uncached_input_tokens",
            service_tier="standard",
            context_window="0-200k",
            inference_geo="global",
        )
        http_mocker.get(*whole_window(STREAM, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-08", row)))

        [record] = records_of(read_stream(STREAM, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))

        self.assertEqual(
            {k: v for k, v in record.items() if k not in ("row_key", "amount_usd")},
            {
                "starting_at": "2025-03-08T00:00:00Z",
                "ending_at": "2025-03-09T00:00:00Z",
                "amount": "123.78912",
                "currency": "USD",
                "workspace_id": "wrkspc_01",
                "description": "Claude Opus 4.1 Usage - Input Tokens",
                "cost_type": "tokens",
                "model": "claude-opus-4-1",
                "token_type": "uncached_input_tokens",
                "service_tier": "standard",
                "context_window": "0-200k",
                "inference_geo": "global",
            },
        )
        self.assertEqual(record["amount_usd"], 1.2378912)

    @HttpMocker()
    def test_non_token_costs_with_null_model_are_kept_and_keyed_apart(self, http_mocker: HttpMocker) -> None:
        """Given code execution and web search lines in the default workspace, Then both arrive with distinct keys."""
        rows = [
            cost_row("40.5", description="Code Execution Usage", cost_type="code_execution"),
            cost_row("40.5", description="Web Search Usage", cost_type="web_search"),
            cost_row("40.5", workspace_id="wrkspc_01", description="Web Search Usage", cost_type="web_search"),
        ]
        http_mocker.get(*whole_window(STREAM, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-08", *rows)))

        records = records_of(read_stream(STREAM, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))

        self.assertEqual([r["amount"] for r in records], ["40.5", "40.5", "40.5"])
        self.assertEqual(len({r["row_key"] for r in records}), 3)

    @HttpMocker()
    def test_state_and_lookback(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(*whole_window(STREAM, "2025-03-02T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-07", cost_row("1")), bucket("2025-03-08", cost_row("2"))))

        output = read_stream(STREAM, config(lookback_window_days=5), state={"starting_at": "2025-03-07T00:00:00Z"})

        self.assertEqual([r["amount"] for r in records_of(output)], ["1", "2"])
        # The window's last bucket, 03-09, was read too, though it held no cost.
        self.assertEqual(output.most_recent_state.stream_state.__dict__, {"starting_at": "2025-03-09T00:00:00Z"})


class TestAmountUsdOnTheWire(TestCase):
    """amount_usd must reach stdout as cents / 100 at 9 decimals (rounded half to even beyond them, never -0),
    including where a float could not hold it."""

    def test_serialized_record_carries_the_exact_quotient(self) -> None:
        from airbyte_cdk.entrypoint import AirbyteEntrypoint
        from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

        from source_claude.components import with_usd

        cases = {
            "123.78912": "1.2378912",
            "12345678901234567890.123456789": "123456789012345678.901234568",
            "12.34567895": "0.12345679",
            "12.34567885": "0.123456788",
            "-0.00000001": "0",
            "0.000001": "0.00000001",
            "-250": "-2.50",
        }
        for cents, usd in cases.items():
            data = {"amount": cents}
            with_usd(data, ["amount"])
            message = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=STREAM, data=data, emitted_at=0))
            line = AirbyteEntrypoint.airbyte_message_to_string(message)
            on_the_wire = json.loads(line, parse_float=Decimal)["record"]["data"]
            self.assertEqual((on_the_wire["amount_usd"], on_the_wire["amount"]), (Decimal(usd), cents))
            self.assertEqual(on_the_wire["amount_usd"].is_signed(), Decimal(usd).is_signed())


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestKeysThatAppearOverTime(TestCase):
    """Recorded from the live API: October 2025 cost rows had no inference_geo key at all. A row without it must give
    the same record, row_key included, as a row where it is null."""

    def test_an_absent_inference_geo_reads_as_a_null_one(self) -> None:
        with_null = cost_row("12.5", workspace_id="wrkspc_01", description="Web Search Usage", cost_type="web_search")
        without_key = {name: value for name, value in with_null.items() if name != "inference_geo"}

        self.assertEqual(read_one_row(STREAM, without_key), read_one_row(STREAM, with_null))


# Amounts as JSON numbers, written by hand: json.dumps of a float would round the first one.
NUMERIC_AMOUNTS = {"123.456789012345678901": "1.23456789", "250": "2.50", "1E+2": "1.00", "-0.5": "-0.005"}
AS_TEXT = {"123.456789012345678901": "123.456789012345678901", "250": "250", "1E+2": "100", "-0.5": "-0.5"}


def page_with_numeric_amounts() -> str:
    rows = [cost_row(f"<{n}>", description=f"line {n}") for n in range(len(NUMERIC_AMOUNTS))]
    body = json.dumps({"data": [bucket("2025-03-08", *rows), bucket("2025-03-09")], "has_more": False,
                       "next_page": None})
    for n, number in enumerate(NUMERIC_AMOUNTS):
        body = body.replace(f'"<{n}>"', number)
    return body


@freezegun.freeze_time("2025-03-10T12:00:00Z")
class TestAmountsSentAsNumbers(TestCase):
    @HttpMocker()
    def test_an_amount_sent_as_a_json_number_arrives_as_its_exact_decimal_string(self, http_mocker: HttpMocker) -> None:
        from airbyte_cdk.test.mock_http import HttpResponse

        http_mocker.get(report_request(STREAM, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z"),
                        HttpResponse(page_with_numeric_amounts()))

        records = records_of(read_stream(STREAM, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))

        self.assertEqual([r["amount"] for r in records], list(AS_TEXT.values()))

    def test_its_amount_usd_is_exact_on_the_wire(self) -> None:
        from unittest.mock import MagicMock

        from airbyte_cdk.entrypoint import AirbyteEntrypoint
        from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

        from source_claude.components import ShapedRecords

        response = MagicMock()
        response.content = page_with_numeric_amounts().encode()
        response.request.url = f"{COST_URL}?starting_at=2025-03-08T00:00:00Z&ending_at=2025-03-10T00:00:00Z"
        extractor = ShapedRecords(config={}, parameters={}, rows="report", key=["description"], money_fields=["amount"])
        for record, (cents, usd) in zip(extractor.extract_records(response), NUMERIC_AMOUNTS.items()):
            line = AirbyteEntrypoint.airbyte_message_to_string(
                AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=STREAM, data=record, emitted_at=0)))
            on_the_wire = json.loads(line, parse_float=Decimal)["record"]["data"]
            self.assertEqual((on_the_wire["amount"], on_the_wire["amount_usd"]), (AS_TEXT[cents], Decimal(usd)))
