"""The stand-in keeps the documented rules of the Admin API (and is stricter where the docs are silent)."""

from datetime import timedelta

import pytest
import requests

from integration_tests.fake_admin_api import COST_PATH, DEFAULT_ADMIN_KEY, USAGE_PATH, parse_fault
from integration_tests.ground_truth import day_start

HEADERS = {"x-api-key": DEFAULT_ADMIN_KEY, "anthropic-version": "2023-06-01"}


def get(api, path, params=None, headers=HEADERS):
    return requests.get(api.url + path, params=params, headers=headers, timeout=30)


def error_of(response):
    body = response.json()
    assert body["type"] == "error" and body["request_id"].startswith("req_")
    assert response.headers["request-id"]
    return response.status_code, body["error"]["type"], body["error"]["message"]


@pytest.fixture
def first(organization):
    return day_start(organization.first_day)


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"anthropic-version": "2023-06-01"}, (401, "authentication_error")),
        ({**HEADERS, "x-api-key": "sk-ant-admin01-unknown"}, (401, "authentication_error")),
        ({**HEADERS, "x-api-key": "sk-ant-api03-regular"}, (403, "permission_error")),
        ({"x-api-key": DEFAULT_ADMIN_KEY}, (400, "invalid_request_error")),
        ({**HEADERS, "anthropic-version": "2099-01-01"}, (400, "invalid_request_error")),
    ],
    ids=["no key", "unknown key", "regular key", "no version", "unknown version"],
)
def test_authentication_and_version(api, first, headers, expected) -> None:
    assert error_of(get(api, USAGE_PATH, {"starting_at": first}, headers))[:2] == expected


@pytest.mark.parametrize(
    "params, message",
    [
        ({"starting_at": None}, "starting_at: Field required"),  # requests drops a None parameter
        ({"ending_at": "2025-01-01T00:00:00Z"}, "ending_at must be after starting_at"),
        ({"limit": "32"}, "limit: Input should be between 1 and 31"),
        ({"limit": "0"}, "limit: Input should be between 1 and 31"),
        ({"bucket_width": "1h", "limit": "169"}, "between 1 and 168"),
        ({"bucket_width": "1m", "limit": "1441"}, "between 1 and 1440"),
        ({"bucket_width": "1w"}, "bucket_width"),
        ({"group_by[]": ["model", "workspace_id", "api_key_id", "service_tier", "context_window", "inference_geo"]},
         "Cannot specify more than 5 group_by[] dimensions."),
        ({"group_by[]": ["description"]}, "group_by[]: Input should be"),
        ({"group_by": "model"}, "group_by: Extra inputs are not permitted"),
        ({"group_by[]": ["speed"]}, "fast-mode-2026-02-01"),
        ({"page": "page_bm9uc2Vuc2U="}, "Invalid page token"),
        ({"starting_at": "2025-01-01T06:00:00Z"}, "aligned"),
        ({"starting_at": "yesterday"}, "valid RFC 3339"),
    ],
)
def test_usage_parameter_rules(api, params, message) -> None:
    query = {"starting_at": "2025-01-01T00:00:00Z", **params}
    status, error_type, text = error_of(get(api, USAGE_PATH, query))
    assert (status, error_type) == (400, "invalid_request_error")
    assert message in text


def test_cost_report_accepts_only_its_dimensions_and_daily_buckets(api, first) -> None:
    assert "Input should be" in error_of(get(api, COST_PATH, {"starting_at": first, "group_by[]": ["model"]}))[2]
    assert "bucket_width" in error_of(get(api, COST_PATH, {"starting_at": first, "bucket_width": "1h"}))[2]
    assert get(api, COST_PATH, {"starting_at": first, "group_by[]": ["workspace_id", "description"]}).ok


def test_ending_at_in_the_future_is_refused(api, organization) -> None:
    future = day_start(organization.last_day + timedelta(days=3))
    assert "future" in error_of(get(api, USAGE_PATH, {"starting_at": day_start(organization.last_day),
                                                      "ending_at": future}))[2]


def test_buckets_end_at_or_before_ending_at_and_empty_ones_are_returned(api, organization) -> None:
    before = organization.first_day - timedelta(days=2)
    body = get(api, USAGE_PATH, {"starting_at": day_start(before),
                                 "ending_at": day_start(organization.first_day + timedelta(days=1))}).json()

    assert [b["starting_at"] for b in body["data"]] == [
        day_start(before), day_start(before + timedelta(days=1)), day_start(organization.first_day)]
    assert [bool(b["results"]) for b in body["data"]] == [False, False, True]
    assert body["has_more"] is False and body["next_page"] is None


def test_pages_hold_limit_buckets_and_tokens_continue_the_same_query(api, organization, first) -> None:
    params = {"starting_at": first, "ending_at": day_start(organization.first_day + timedelta(days=10)), "limit": "4"}
    starts, pages = [], 0
    while True:
        body = get(api, USAGE_PATH, params).json()
        starts += [b["starting_at"] for b in body["data"]]
        pages += 1
        if not body["has_more"]:
            break
        params = {**params, "page": body["next_page"]}
    assert pages == 3 and len(starts) == len(set(starts)) == 10
    # A token is bound to its query: reusing it with other parameters is refused.
    token = get(api, USAGE_PATH, {**params, "page": None, "limit": "4"}).json()["next_page"]
    assert error_of(get(api, USAGE_PATH, {**params, "page": token, "limit": "5"}))[2] == "Invalid page token"


def test_ungrouped_dimensions_are_null_and_summed(api, organization) -> None:
    day = organization.first_day
    params = {"starting_at": day_start(day), "ending_at": day_start(day + timedelta(days=1))}
    by_model = get(api, USAGE_PATH, {**params, "group_by[]": ["model"]}).json()["data"][0]["results"]
    ungrouped = get(api, USAGE_PATH, params).json()["data"][0]["results"]

    assert len(ungrouped) == 1 and all(ungrouped[0][d] is None for d in ("model", "workspace_id", "api_key_id"))
    assert all(row["workspace_id"] is None and row["model"] for row in by_model)
    assert sum(row["output_tokens"] for row in by_model) == ungrouped[0]["output_tokens"] == sum(
        row.output_tokens for row in organization.usage_rows(day))


def test_hourly_buckets_split_the_day(api, organization) -> None:
    day = organization.first_day
    body = get(api, USAGE_PATH, {"starting_at": day_start(day), "ending_at": day_start(day + timedelta(days=1)),
                                 "bucket_width": "1h", "limit": "24"}).json()
    assert len(body["data"]) == 24
    assert sum(b["results"][0]["output_tokens"] for b in body["data"] if b["results"]) == sum(
        row.output_tokens for row in organization.usage_rows(day))


def test_cost_amounts_are_decimal_strings_in_cents(api, organization) -> None:
    day = organization.first_day
    body = get(api, COST_PATH, {"starting_at": day_start(day), "ending_at": day_start(day + timedelta(days=1)),
                                "group_by[]": ["description"]}).json()
    rows = body["data"][0]["results"]
    assert rows and all(isinstance(row["amount"], str) and row["currency"] == "USD" for row in rows)
    assert {row["cost_type"] for row in rows} >= {"tokens", "code_execution"}
    assert all(row["service_tier"] in (None, "standard", "batch") for row in rows)  # no Priority Tier costs


@pytest.mark.parametrize("spec, check", [
    ("429:retry-after=7@1", lambda r: r.status_code == 429 and r.headers["retry-after"] == "7"),
    ("529@1", lambda r: r.status_code == 529 and r.json()["error"]["type"] == "overloaded_error"),
    ("truncate@1", lambda r: r.status_code == 200 and not r.text.rstrip().endswith("}")),
])
def test_faults_are_injected_on_the_chosen_request(api, first, spec, check) -> None:
    api.faults.faults = [parse_fault(spec)]
    assert check(get(api, USAGE_PATH, {"starting_at": first}))
    assert get(api, USAGE_PATH, {"starting_at": first}).ok


def test_a_dropped_connection_breaks_the_body(api, first) -> None:
    api.faults.faults = [parse_fault("drop@1")]
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # the CDK retries this one
        get(api, USAGE_PATH, {"starting_at": first})
