"""The stand-in's Usage and Cost Analytics API keeps the documented rules, is strict where they are silent, and serves
the same organization as the legacy reports.

Each test runs its own stand-in on a fixed clock, so the range rules (nothing before 2026-01-01, nothing older than
365 days) hold the same on any date the suite runs.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, Iterator, List

import pytest
import requests

from integration_tests.fake_admin_api import (
    ANALYTICS_BETA,
    COST_ANALYTICS_PATH,
    COST_PATH,
    DEFAULT_ADMIN_KEY,
    DEFAULT_ANALYTICS_KEY,
    USAGE_ANALYTICS_PATH,
    USAGE_PATH,
    FakeAdminApi,
    Organization,
)

HEADERS = {"x-api-key": DEFAULT_ADMIN_KEY, "anthropic-version": "2023-06-01", "anthropic-beta": ANALYTICS_BETA}
NOW = datetime(2026, 6, 15, 10, 30, tzinfo=timezone.utc)
DEFAULT_GROUPS = ["api_key_id", "actor", "workspace_id", "model"]
# Written out from the docs (BetaAnalyticsCostGroup: "including cost_type and token_type"), not from the stand-in.
COST_GROUP_MEMBERS = {"actor", "actor_type", "agent_id", "api_key_id", "claude_tag_category", "claude_tag_user_id",
                      "context_window", "cost_type", "deployment_id", "environment_id", "inference_geo", "model",
                      "product", "rbac_group_id", "service_tier", "slack_channel_id", "speed", "token_type",
                      "workspace_id"}


def stand_in(now: datetime = NOW, days: int = 40) -> FakeAdminApi:
    organization = Organization(seed=5, days=days, rows_per_day=20, last_day=now.date() - timedelta(days=1))
    return FakeAdminApi(organization, clock=lambda: now)


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAdminApi]:
    with stand_in() as api:
        yield api


def midnight(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def get(api, path, params, headers=HEADERS):
    return requests.get(api.url + path, params=params, headers=headers, timeout=30)


def error_of(response):
    return response.status_code, response.json()["error"]["type"], response.json()["error"]["message"]


def window(api, days=7):
    last = api.organization.last_day
    return {"starting_at": midnight(last - timedelta(days=days - 1)), "ending_at": midnight(last + timedelta(days=1)),
            "time_bucket_width": "1d"}


def all_rows(api, path, params) -> List[Dict[str, Any]]:
    rows, page = [], None
    for _ in range(1000):
        body = get(api, path, {**params, **({"page": page} if page else {})}).json()
        rows += body["data"]
        if not body["has_more"]:
            return rows
        page = body["next_page"]
    raise AssertionError("pages never ended")


@pytest.mark.parametrize("path", [USAGE_ANALYTICS_PATH, COST_ANALYTICS_PATH])
@pytest.mark.parametrize("headers, expected", [
    ({k: v for k, v in HEADERS.items() if k != "anthropic-beta"}, (400, "invalid_request_error")),
    ({**HEADERS, "anthropic-beta": "some-other-beta-2025-01-01"}, (400, "invalid_request_error")),
    ({k: v for k, v in HEADERS.items() if k != "anthropic-version"}, (400, "invalid_request_error")),
    ({**HEADERS, "x-api-key": "sk-ant-api03-regular"}, (403, "permission_error")),
    ({**HEADERS, "x-api-key": "sk-ant-admin01-unknown"}, (401, "authentication_error")),
], ids=["no beta", "another beta", "no version", "regular key", "unknown key"])
def test_the_beta_header_version_and_a_key_that_may_read_it_are_required(api, path, headers, expected) -> None:
    assert error_of(get(api, path, window(api), headers))[:2] == expected


def test_the_beta_header_may_name_other_betas_too(api) -> None:
    headers = {**HEADERS, "anthropic-beta": f"fast-mode-2026-02-01, {ANALYTICS_BETA}"}
    assert get(api, USAGE_ANALYTICS_PATH, window(api), headers).status_code == 200


def test_an_analytics_key_reads_both_analytics_endpoints_and_nothing_else(api) -> None:
    headers = {**HEADERS, "x-api-key": DEFAULT_ANALYTICS_KEY}
    assert get(api, USAGE_ANALYTICS_PATH, window(api), headers).status_code == 200
    assert get(api, COST_ANALYTICS_PATH, window(api), headers).status_code == 200
    refused = [get(api, path, {"starting_at": midnight(api.organization.last_day)}, headers).status_code
               for path in (USAGE_PATH, COST_PATH, "/v1/organizations/users")]
    assert refused == [403, 403, 403]


@pytest.mark.parametrize("now, starting_at, refused", [
    # The floor: nothing before 2026-01-01T00:00:00Z, whatever the 365 days allow.
    (datetime(2026, 1, 20, 10, tzinfo=timezone.utc), "2025-12-31T00:00:00Z", "no earlier than 2026-01-01"),
    (datetime(2026, 1, 20, 10, tzinfo=timezone.utc), "2026-01-01T00:00:00Z", None),
    # The window: 365 days before 2027-03-10T10:00Z is 2026-03-10T10:00Z.
    (datetime(2027, 3, 10, 10, tzinfo=timezone.utc), "2026-03-10T00:00:00Z", "within the last 365 days"),
    (datetime(2027, 3, 10, 10, tzinfo=timezone.utc), "2026-03-10T10:00:00Z", None),
    (datetime(2027, 3, 10, 10, tzinfo=timezone.utc), "2026-03-11T00:00:00Z", None),
])
def test_nothing_before_2026_and_nothing_older_than_365_days(now, starting_at, refused) -> None:
    with stand_in(now, days=400) as api:
        response = get(api, COST_ANALYTICS_PATH, {"starting_at": starting_at})
    if refused:
        assert response.status_code == 400 and refused in error_of(response)[2]
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("params, message", [
    ({"starting_at": None}, "starting_at: Field required"),
    ({"starting_at": "2026-06-01T00:00:00"}, "time zone"),  # documented: tz-aware
    ({"ending_at": "2026-06-01T00:00:00Z"}, "ending_at: must be after starting_at"),
    ({"starting_at": "2026-05-01T00:00:00Z", "ending_at": "2026-06-02T00:00:00Z"}, "at most 31 days"),
    ({"ending_at": "2026-06-16T00:00:00Z"}, "must not be in the future"),
    ({"time_bucket_width": "1w"}, "time_bucket_width"),
    ({"starting_at": "2026-06-08T06:00:00Z"}, "time bucket boundaries"),
    ({"bucket_width": "1d"}, "bucket_width: Extra inputs are not permitted"),  # the legacy name
    ({"group_by": "model"}, "group_by: Extra inputs are not permitted"),
    ({"group_by[]": ["description"]}, "group_by[]: Input should be"),  # the legacy cost dimension is gone
    ({"group_by[]": ["model", "model"]}, "unique"),
    ({"group_by[]": ["claude_tag_user_id", "rbac_group_id"]}, "cannot be combined"),
    ({"order_by": "amount"}, "order_by"),
    ({"limit": "1001"}, "limit: Input should be between 1 and 1000"),
    ({"actor_ids[]": [f"user_{n}" for n in range(101)]}, "at most 100 items"),
    ({"page": "page_bm9uc2Vuc2U="}, "Invalid page token"),
])
def test_parameters_are_checked(api, params, message) -> None:
    status, error_type, text = error_of(get(api, COST_ANALYTICS_PATH, {**window(api), **params}))
    assert (status, error_type) == (400, "invalid_request_error") and message in text


def test_usage_has_no_cost_dimensions(api) -> None:
    for dimension in ("cost_type", "token_type"):
        response = get(api, USAGE_ANALYTICS_PATH, {**window(api), "group_by[]": [dimension]})
        assert response.status_code == 400


def test_rows_are_flat_with_every_dimension_in_group_and_money_as_decimal_text(api) -> None:
    body = get(api, COST_ANALYTICS_PATH, {**window(api), "group_by[]": ["workspace_id", "cost_type"],
                                          "limit": "1000"}).json()

    assert set(body) == {"data", "has_more", "next_page", "data_refreshed_at"}
    row = body["data"][0]
    assert set(row) == {"starting_at", "ending_at", "group", "cost"}
    assert set(row["group"]) == COST_GROUP_MEMBERS
    assert {name for name, value in row["group"].items() if value is not None} <= {"workspace_id", "cost_type"}
    assert all(isinstance(r["cost"]["amount"], str) and isinstance(r["cost"]["list_amount"], str)
               for r in body["data"])
    assert {r["cost"]["currency"] for r in body["data"]} == {"USD"}
    # Documented: requests is null when grouped by cost_type or token_type.
    assert {r["cost"]["requests"] for r in body["data"]} == {None}
    # The organization pays 80% of list price (organization.LIST_PRICE_PER_PAID).
    assert all(Decimal(r["cost"]["list_amount"]) == Decimal(r["cost"]["amount"]) * Decimal("1.25")
               for r in body["data"])


def test_daily_rows_cover_their_day_and_only_days_with_usage(api) -> None:
    rows = all_rows(api, USAGE_ANALYTICS_PATH, {**window(api), "group_by[]": ["model"], "limit": "1000"})
    last = api.organization.last_day
    days = {midnight(last - timedelta(days=n)) for n in range(7)}
    assert {row["starting_at"] for row in rows} == days
    assert all(row["ending_at"] == midnight(date.fromisoformat(row["starting_at"][:10]) + timedelta(days=1))
               for row in rows)
    used = {(midnight(day), r.model) for day in map(date.fromisoformat, (d[:10] for d in days))
            for r in api.organization.usage_rows(day)}
    assert {(row["starting_at"], row["group"]["model"]) for row in rows} == used


def test_without_a_time_bucket_one_row_covers_the_whole_hours_of_the_range(api) -> None:
    start = midnight(api.organization.last_day)
    body = get(api, USAGE_ANALYTICS_PATH, {"starting_at": start}).json()

    # Without ending_at: the earlier of now (10:30) and start + 31 days, rounded down to the hour.
    [row] = body["data"]
    assert (row["starting_at"], row["ending_at"]) == (start, "2026-06-15T10:00:00Z")
    tokens = sum(r.output_tokens for r in api.organization.usage_rows(api.organization.last_day))
    assert row["usage"]["output_tokens"] == tokens


def test_usage_summed_over_groups_equals_the_legacy_usage_report(api) -> None:
    """Both endpoints read the same atomic rows: per day and model, every token count is the same."""
    params = window(api, days=10)
    analytics = defaultdict(lambda: defaultdict(int))
    for row in all_rows(api, USAGE_ANALYTICS_PATH, {**params, "group_by[]": DEFAULT_GROUPS, "limit": "1000"}):
        usage = row["usage"]
        totals = analytics[(row["starting_at"], row["group"]["model"])]
        totals["uncached"] += usage["uncached_input_tokens"]
        totals["output"] += usage["output_tokens"]
        totals["cache_read"] += usage["cache_read_input_tokens"]
        totals["5m"] += usage["cache_creation"]["ephemeral_5m_input_tokens"]
        totals["1h"] += usage["cache_creation"]["ephemeral_1h_input_tokens"]
        totals["web_search"] += usage["server_tool_use"]["web_search_requests"]
    legacy = defaultdict(lambda: defaultdict(int))
    legacy_params = {"starting_at": params["starting_at"], "ending_at": params["ending_at"], "limit": "31",
                     "group_by[]": ["model"]}
    for bucket in get(api, USAGE_PATH, legacy_params, HEADERS).json()["data"]:
        for result in bucket["results"]:
            totals = legacy[(bucket["starting_at"], result["model"])]
            totals["uncached"] += result["uncached_input_tokens"]
            totals["output"] += result["output_tokens"]
            totals["cache_read"] += result["cache_read_input_tokens"]
            totals["5m"] += result["cache_creation"]["ephemeral_5m_input_tokens"]
            totals["1h"] += result["cache_creation"]["ephemeral_1h_input_tokens"]
            totals["web_search"] += result["server_tool_use"]["web_search_requests"]

    assert analytics and analytics == legacy


def test_cost_summed_over_groups_equals_the_legacy_cost_report_per_workspace_and_component(api) -> None:
    params = window(api, days=10)
    analytics = defaultdict(Decimal)
    rows = all_rows(api, COST_ANALYTICS_PATH, {**params, "group_by[]": [*DEFAULT_GROUPS, "cost_type", "token_type"],
                                               "limit": "1000"})
    for row in rows:
        group = row["group"]
        analytics[(row["starting_at"], group["workspace_id"], group["cost_type"], group["token_type"])] += \
            Decimal(row["cost"]["amount"])
    legacy = defaultdict(Decimal)
    legacy_params = {"starting_at": params["starting_at"], "ending_at": params["ending_at"], "limit": "31",
                     "group_by[]": ["workspace_id", "description"]}
    for bucket in get(api, COST_PATH, legacy_params, HEADERS).json()["data"]:
        for result in bucket["results"]:
            key = (bucket["starting_at"], result["workspace_id"], result["cost_type"], result["token_type"])
            legacy[key] += Decimal(result["amount"])

    assert analytics and analytics == legacy
    # Cost per API key, which the legacy report cannot give: present on rows, and per user through the actor.
    assert any(row["group"]["api_key_id"] for row in rows)
    assert any((row["group"]["actor"] or {}).get("type") == "user_actor" for row in rows)


def test_pages_hold_limit_rows_and_together_every_row_once(api) -> None:
    params = {**window(api), "group_by[]": DEFAULT_GROUPS}
    whole = get(api, USAGE_ANALYTICS_PATH, {**params, "limit": "1000"}).json()
    assert not whole["has_more"]
    paged = all_rows(api, USAGE_ANALYTICS_PATH, {**params, "limit": "7"})
    assert paged == whole["data"] and len(paged) > 7


def test_a_cursor_expires_with_410_once_the_data_changes_and_the_first_page_works_again() -> None:
    with stand_in() as api:
        params = {**window(api), "group_by[]": DEFAULT_GROUPS, "limit": "5"}
        first = get(api, USAGE_ANALYTICS_PATH, params).json()
        still_valid = get(api, USAGE_ANALYTICS_PATH, {**params, "page": first["next_page"]}).status_code
        api.organization.restate(api.organization.last_day)

        expired = get(api, USAGE_ANALYTICS_PATH, {**params, "page": first["next_page"]})
        again = get(api, USAGE_ANALYTICS_PATH, params)

    assert (still_valid, expired.status_code, again.status_code) == (200, 410, 200)


def test_usage_after_data_refreshed_at_is_not_there_yet() -> None:
    with stand_in() as api:
        last = api.organization.last_day
        api.analytics.data_refreshed_at = datetime(last.year, last.month, last.day, 12, tzinfo=timezone.utc)
        body = get(api, USAGE_ANALYTICS_PATH, {**window(api, days=2), "group_by[]": ["model"],
                                               "limit": "1000"}).json()
    assert body["data_refreshed_at"] == f"{last.isoformat()}T12:00:00Z"
    served = sum(row["usage"]["output_tokens"] for row in body["data"] if row["starting_at"] == midnight(last))
    before_noon = sum(r.output_tokens for r in api.organization.usage_rows(last) if r.at.hour < 12)
    assert served == before_noon


def test_by_default_data_refreshed_at_is_the_last_four_hour_refresh(api) -> None:
    body = get(api, USAGE_ANALYTICS_PATH, window(api)).json()
    assert body["data_refreshed_at"] == "2026-06-15T08:00:00Z"
