"""The record path helpers (flattening, row_key, cents to USD) and a saved cursor's bucket, without HTTP."""

import hashlib
import re
from datetime import datetime, timezone

import pytest

from source_claude.components import CursorAtBucketStart, cents_to_usd, flatten, row_key, saved_cursor_bucket


def test_flatten_prefixes_nested_objects_except_server_tool_use() -> None:
    row = {
        "model": "m",
        "cache_creation": {"ephemeral_5m_input_tokens": 5, "ephemeral_1h_input_tokens": 1},
        "server_tool_use": {"web_search_requests": 2},
        "workspace_id": None,
    }
    assert flatten(row, {"starting_at": "2025-01-01T00:00:00Z", "ending_at": "2025-01-02T00:00:00Z"}) == {
        "starting_at": "2025-01-01T00:00:00Z",
        "ending_at": "2025-01-02T00:00:00Z",
        "model": "m",
        "cache_creation_ephemeral_5m_input_tokens": 5,
        "cache_creation_ephemeral_1h_input_tokens": 1,
        "web_search_requests": 2,
        "workspace_id": None,
    }


def test_flatten_never_overwrites_a_top_level_field_with_a_nested_one() -> None:
    row = {"model": "top", "server_tool_use": {"model": "nested"}}
    flat = flatten(row, {})
    assert (flat["model"], flat["server_tool_use_model"]) == ("top", "nested")


def test_row_key_is_md5_of_the_json_identity_with_nulls() -> None:
    # Written by hand: the bucket start, then each dimension in order, null for a missing or null one.
    identity = b'["2025-01-01T00:00:00Z","claude-opus-4-1",null,"apikey_01"]'
    record = {"starting_at": "2025-01-01T00:00:00Z", "model": "claude-opus-4-1", "workspace_id": None,
              "api_key_id": "apikey_01"}
    assert row_key(record, ["model", "workspace_id", "api_key_id"]) == hashlib.md5(identity).hexdigest()


def test_row_key_tells_null_from_the_string_none_and_empty() -> None:
    keys = {
        row_key({"starting_at": "d", "model": value}, ["model"])
        for value in (None, "None", "null", "")
    }
    assert len(keys) == 4


@pytest.mark.parametrize(
    "cents, usd",
    [
        ("123.78912", "1.2378912"),
        ("123.45", "1.2345"),
        ("100", "1.00"),
        ("0", "0.00"),
        ("1E+3", "10"),
        ("-0.5", "-0.005"),
        (186, "1.86"),
        (186.5, "1.865"),
        ("123.1234567", "1.231234567"),
    ],
)
def test_cents_to_usd_moves_the_decimal_point_exactly(cents, usd) -> None:
    assert cents_to_usd(cents) == usd


@pytest.mark.parametrize(
    "cents, usd",
    [
        ("123.12345678", "1.231234568"),
        ("12.34567895", "0.12345679"),  # half to even: ...789|5 -> ...790
        ("12.34567885", "0.123456788"),  # half to even: ...788|5 -> ...788
        ("0.00000005", "0"),
        ("-0.00000001", "0"),  # never "-0"
        ("-0.00000015", "-0.000000002"),
        ("98765432109876543210.98765432109876543210", "987654321098765432.109876543"),
        (12.345678901234567, "0.123456789"),
    ],
)
def test_cents_to_usd_rounds_beyond_nine_decimals_half_to_even(cents, usd) -> None:
    assert cents_to_usd(cents) == usd


@pytest.mark.parametrize("cents", [None, "", "abc", "NaN", "Infinity", True, {"amount": 1}])
def test_cents_to_usd_is_none_for_what_is_not_a_finite_amount(cents) -> None:
    assert cents_to_usd(cents) is None


@pytest.mark.parametrize(
    "cents",
    ["0", "7", "42", "100", "123.45", "0.000001", "-0.5", "-1234567.891", "0005.50", "99999999999999999999.1",
     "12.", ".5", "1e3", "1E-7", " 12", "+3"],
)
def test_every_decimal_form_gives_the_exact_quotient_as_a_json_number(cents) -> None:
    """Plain strings take the text path, other forms go through Decimal: both must be exact and valid JSON numbers."""
    from decimal import Decimal

    usd = cents_to_usd(cents)
    assert Decimal(usd) * 100 == Decimal(cents)
    assert re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?", usd), usd


@pytest.mark.parametrize("saved, bucket_width, expected", [
    ("2025-03-09T05:27:13Z", "1d", datetime(2025, 3, 9, tzinfo=timezone.utc)),
    ("2025-03-09T05:27:13Z", "1h", datetime(2025, 3, 9, 5, tzinfo=timezone.utc)),
    ("2025-03-09T01:30:00+02:00", "1d", datetime(2025, 3, 8, tzinfo=timezone.utc)),  # 23:30 UTC the day before
    ("2025-03-09T01:30:00+02:00", "1h", datetime(2025, 3, 8, 23, tzinfo=timezone.utc)),
    ("2025-03-09", "1d", datetime(2025, 3, 9, tzinfo=timezone.utc)),
    ("2025-03-09", "1h", datetime(2025, 3, 9, tzinfo=timezone.utc)),
    ("2025-03-09T23:59:59.999Z", "1h", datetime(2025, 3, 9, 23, tzinfo=timezone.utc)),
    ("2025-03-09T05", "1h", None),
    (None, "1h", None),
])
def test_a_saved_cursor_is_the_start_of_its_utc_day_or_hour(saved, bucket_width, expected) -> None:
    assert saved_cursor_bucket(saved, bucket_width) == expected


def test_a_state_migration_refuses_a_bucket_width_the_reports_do_not_have() -> None:
    with pytest.raises(ValueError, match="bucket_width must be one of 1d, 1h, not '1m'"):
        CursorAtBucketStart(config={}, parameters={}, cursor_field="starting_at", cursor_format="%Y-%m-%dT%H:%M:%SZ",
                            bucket_width="1m")
