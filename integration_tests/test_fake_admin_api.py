"""The stand-in keeps the documented rules of the Admin API (and is stricter where the docs are silent)."""

from collections import defaultdict
from datetime import datetime, time, timedelta, timezone
from time import monotonic

import pytest
import requests

from integration_tests.fake_admin_api import COST_PATH, DEFAULT_ADMIN_KEY, USAGE_PATH, FakeAdminApi, parse_fault
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
        ({"starting_at": "2025-01-01T06:30:00Z", "bucket_width": "1h"}, "aligned"),
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


TOKEN_FIELDS = ("uncached_input_tokens", "cache_read_input_tokens", "output_tokens")


def tokens_by_group(results, group_by):
    sums = {}
    for row in results:
        group = sums.setdefault(tuple(row[d] for d in group_by), defaultdict(int))
        for name in TOKEN_FIELDS:
            group[name] += row[name]
        for name, value in {**row["cache_creation"], **row["server_tool_use"]}.items():
            group[name] += value
    return sums


def test_hourly_buckets_split_the_day(api, organization) -> None:
    """A day's 24 hourly buckets, each group summed over the hours, are exactly the day's bucket: every token field."""
    day = organization.first_day
    group_by = ["model", "workspace_id", "api_key_id", "service_tier", "context_window"]
    params = {"starting_at": day_start(day), "ending_at": day_start(day + timedelta(days=1)), "group_by[]": group_by}
    hourly = get(api, USAGE_PATH, {**params, "bucket_width": "1h", "limit": "24"}).json()
    [daily] = get(api, USAGE_PATH, params).json()["data"]

    assert [b["starting_at"] for b in hourly["data"]] == [f"{day}T{hour:02d}:00:00Z" for hour in range(24)]
    summed = defaultdict(lambda: defaultdict(int))
    for group, sums in (item for b in hourly["data"] for item in tokens_by_group(b["results"], group_by).items()):
        for name, value in sums.items():
            summed[group][name] += value
    assert summed == tokens_by_group(daily["results"], group_by)
    assert sum(sums["output_tokens"] for sums in summed.values()) == sum(
        row.output_tokens for row in organization.usage_rows(day))


def test_an_hourly_range_ends_at_the_last_whole_hour(organization) -> None:
    """With the clock at 12:34:56, the bucket of 12:00 has not ended: a range ending at 13:00 is refused, and one
    without ending_at ends with the bucket of 11:00."""
    now = datetime.combine(organization.last_day, time(12, 34, 56), timezone.utc)
    with FakeAdminApi(organization, clock=lambda: now) as api:
        params = {"starting_at": f"{organization.last_day}T10:00:00Z", "bucket_width": "1h"}
        unfinished = get(api, USAGE_PATH, {**params, "ending_at": f"{organization.last_day}T13:00:00Z"})
        open_ended = get(api, USAGE_PATH, params).json()

    assert error_of(unfinished)[:2] == (400, "invalid_request_error")
    assert [b["starting_at"][11:13] for b in open_ended["data"]] == ["10", "11"]


COST_TYPES = {"tokens", "web_search", "code_execution"}


def test_cost_amounts_are_decimal_strings_in_cents(api, organization) -> None:
    # Which cost types a day has is random (code execution is a coin toss per workspace), so the day is found in
    # the organization's rows rather than assumed: the first day, say, lacks code execution on some seeds.
    day = next((d for d in organization.day_range()
                if {row.cost_type for row in organization.cost_rows(d)} == COST_TYPES), None)
    assert day, "no day of the organization holds every cost type"
    body = get(api, COST_PATH, {"starting_at": day_start(day), "ending_at": day_start(day + timedelta(days=1)),
                                "group_by[]": ["description"]}).json()
    rows = body["data"][0]["results"]
    assert rows and all(isinstance(row["amount"], str) and row["currency"] == "USD" for row in rows)
    assert {row["cost_type"] for row in rows} == COST_TYPES
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


def test_a_latency_delays_every_answer(organization, first) -> None:
    """The bench's latency: each answer, a report page or an error, arrives no sooner than the latency after its
    request."""
    with FakeAdminApi(organization, latency=0.4) as slow:
        for params, headers in (({"starting_at": first}, HEADERS), ({"starting_at": first}, {})):
            started = monotonic()
            get(slow, USAGE_PATH, params, headers)
            assert monotonic() - started >= 0.4


# -- directory endpoints and the Claude Code report ------------------------------------------------------------

from integration_tests.fake_admin_api import (  # noqa: E402
    API_KEYS_PATH,
    CLAUDE_CODE_PATH,
    INVITES_PATH,
    ME_PATH,
    USERS_PATH,
    WORKSPACES_PATH,
)


def test_lists_page_by_id_and_never_by_offset(api) -> None:
    ids, params = [], {"limit": "2"}
    while True:
        body = get(api, API_KEYS_PATH, params).json()
        assert (body["first_id"], body["last_id"]) == (body["data"][0]["id"], body["data"][-1]["id"])
        ids += [key["id"] for key in body["data"]]
        if not body["has_more"]:
            break
        params = {"limit": "2", "after_id": body["last_id"]}
    assert ids == [key["id"] for key in api.directory.api_keys]
    assert "offset" in error_of(get(api, API_KEYS_PATH, {"offset": "2"}))[2]


@pytest.mark.parametrize("params, message", [
    ({"limit": "1001"}, "between 1 and 1000"),
    ({"after_id": "apikey_nope"}, "unknown id"),
    ({"after_id": "x", "before_id": "y"}, "Cannot specify both after_id and before_id"),
])
def test_list_parameter_rules(api, params, message) -> None:
    assert message in error_of(get(api, USERS_PATH, params))[2]


def test_archived_workspaces_only_when_asked_for(api) -> None:
    default = get(api, WORKSPACES_PATH).json()["data"]
    everything = get(api, WORKSPACES_PATH, {"include_archived": "true"}).json()["data"]
    assert all(w["archived_at"] is None for w in default)
    assert len(everything) > len(default) and any(w["archived_at"] for w in everything)


def test_members_of_a_workspace_and_of_none(api) -> None:
    workspace_id = api.directory.workspaces[0]["id"]
    body = get(api, f"{WORKSPACES_PATH}/{workspace_id}/members").json()
    assert {m["workspace_id"] for m in body["data"]} == {workspace_id} and body["last_id"] == body["data"][-1]["user_id"]
    assert error_of(get(api, f"{WORKSPACES_PATH}/wrkspc_nope/members"))[:2] == (404, "not_found_error")


def test_me_and_invites(api) -> None:
    assert get(api, ME_PATH).json() == api.directory.me
    assert {i["status"] for i in get(api, INVITES_PATH).json()["data"]} == {"pending", "accepted", "expired"}
    assert {i["status"] for i in get(api, INVITES_PATH, {"statuses[]": ["pending"]}).json()["data"]} == {"pending"}


@pytest.mark.parametrize("starting_at, message", [
    (None, "starting_at: Field required"),
    ("2025-08-08T00:00:00Z", "String should match pattern"),
    ("2025-02-30", "valid date"),
    ("2999-01-01", "must not be in the future"),
])
def test_claude_code_takes_one_past_utc_day(api, starting_at, message) -> None:
    assert message in error_of(get(api, CLAUDE_CODE_PATH, {"starting_at": starting_at}))[2]


def test_claude_code_pages_over_one_days_records(api, organization) -> None:
    day = next(d for d in organization.day_range() if len(api.directory.claude_code_records(d)) > 2)
    params, seen = {"starting_at": day.isoformat(), "limit": "2"}, []
    while True:
        body = get(api, CLAUDE_CODE_PATH, params).json()
        seen += body["data"]
        if not body["has_more"]:
            break
        params = {**params, "page": body["next_page"]}
    assert seen == api.directory.claude_code_records(day)
    assert all(record["date"] == f"{day}T00:00:00Z" for record in seen)
    assert error_of(get(api, CLAUDE_CODE_PATH, {**params, "limit": "3"}))[2] == "Invalid page token"


# -- answers no documentation allows, for the connector's tests of them -------------------------------------------

def fault_on_next_request(api, spec):
    api.clear_log()
    api.faults.faults = [parse_fault(spec)]


def window_params(organization, days=3):
    start = organization.first_day + timedelta(days=1)
    return {"starting_at": day_start(start), "ending_at": day_start(start + timedelta(days=days)),
            "group_by[]": ["description"]}


def test_a_repeated_page_token_names_itself_and_ignores_the_page_asked_for(api, organization) -> None:
    params = {**window_params(organization), "limit": "1"}
    fault_on_next_request(api, "repeat-page-token@2-")
    first_page = get(api, COST_PATH, params).json()
    again = get(api, COST_PATH, {**params, "page": first_page["next_page"]}).json()
    assert again["has_more"] is True and again["next_page"] == first_page["next_page"]
    assert again["data"] == first_page["data"]  # the token was dropped, so the first page came back

    fault_on_next_request(api, "repeat-page-token:path=workspaces@1-")
    workspaces = get(api, WORKSPACES_PATH).json()
    assert workspaces["has_more"] is True
    assert get(api, WORKSPACES_PATH, {"after_id": workspaces["last_id"]}).json() == workspaces


@pytest.mark.parametrize("shape, broken", [
    ("no-results", lambda bucket: "results" not in bucket),
    ("null-results", lambda bucket: bucket["results"] is None),
    ("results-not-list", lambda bucket: isinstance(bucket["results"], dict)),
    ("no-starting-at", lambda bucket: "starting_at" not in bucket),
])
def test_a_bad_bucket_breaks_the_first_bucket_with_rows(api, organization, shape, broken) -> None:
    fault_on_next_request(api, f"bad-bucket:shape={shape}@1")
    buckets = get(api, COST_PATH, window_params(organization)).json()["data"]
    assert [broken(bucket) for bucket in buckets] == [True, False, False]
    with pytest.raises(ValueError, match="shape must be one of"):
        parse_fault("bad-bucket:shape=upside-down@1")


def test_outside_window_adds_the_day_before_to_reports_and_claude_code(api, organization) -> None:
    params = window_params(organization)
    fault_on_next_request(api, "outside-window@1")
    buckets = get(api, COST_PATH, params).json()["data"]
    assert [b["starting_at"] for b in buckets] == [day_start(organization.first_day + timedelta(days=n))
                                                   for n in range(4)]
    assert buckets[0]["results"]

    day = next(d for d in organization.day_range() if api.directory.claude_code_records(d))
    fault_on_next_request(api, "outside-window@1")
    records = get(api, CLAUDE_CODE_PATH, {"starting_at": day.isoformat()}).json()["data"]
    assert [r["date"][:10] for r in records].count((day - timedelta(days=1)).isoformat()) == 1


def test_null_date_numeric_amount_and_bad_row(api, organization) -> None:
    day = next(d for d in organization.day_range() if api.directory.claude_code_records(d))
    fault_on_next_request(api, "null-date@1")
    assert {r["date"] for r in get(api, CLAUDE_CODE_PATH, {"starting_at": day.isoformat()}).json()["data"]} == {None}

    exact = get(api, COST_PATH, window_params(organization)).text
    fault_on_next_request(api, "numeric-amount@1")
    numeric = get(api, COST_PATH, window_params(organization)).text
    assert '"amount":"' in exact and '"amount":"' not in numeric
    assert numeric == exact.replace('"amount":"', '"amount":').replace('","currency"', ',"currency"')

    fault_on_next_request(api, "bad-row@1")
    buckets = get(api, COST_PATH, window_params(organization)).json()["data"]
    assert buckets[0]["results"][0] == "unreadable"
