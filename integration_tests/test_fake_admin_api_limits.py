"""The stand-in answers as the recorded real API does (reference §7.5): the organization's rate limit and its 429s,
`x-should-retry`, whole-UTC-day ranges, full pages, and dimension keys that older days lack."""

import base64
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from integration_tests.fake_admin_api import (
    COST_PATH,
    DEFAULT_ADMIN_KEY,
    ME_PATH,
    USAGE_PATH,
    USERS_PATH,
    FakeAdminApi,
    Organization,
    parse_fault,
)
from integration_tests.fake_admin_api.faults import Fault
from integration_tests.fake_admin_api.rate_limit import parse_rate_limit
from integration_tests.ground_truth import day_start
from integration_tests.test_fake_admin_api import HEADERS, error_of, get

INVALID_DATE_RANGE = "Invalid date range: ending date must be after starting date"
LATE_USAGE_KEYS = {"inference_geo", "account_id", "service_account_id"}
OLD_COST_KEYS = {"currency", "amount", "workspace_id", "description", "cost_type", "context_window", "model",
                 "service_tier", "token_type"}  # exactly the keys of the recorded Oct 2025 cost rows


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def small_organization() -> Organization:
    return Organization(seed=3, days=10, rows_per_day=10)


def rfc3339(text: str) -> datetime:
    assert text.endswith("Z") and len(text) == len("2026-11-25T12:00:34Z"), text  # whole seconds, UTC
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def assert_rate_limited(response, limit: int) -> datetime:
    """A 429 as recorded; returns its announced reset."""
    assert error_of(response)[:2] == (429, "rate_limit_error")
    assert response.headers["anthropic-ratelimit-requests-limit"] == str(limit)
    assert response.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert response.headers["x-should-retry"] == "true"
    assert "retry-after" not in response.headers
    return rfc3339(response.headers["anthropic-ratelimit-requests-reset"])


def assert_served_without_rate_limit_headers(response) -> None:
    assert response.status_code == 200, response.text
    assert not [name for name in response.headers if name.lower().startswith("anthropic-ratelimit")]


# -- the organization's rate limit -------------------------------------------------------------------------------


def test_beyond_the_limit_a_429_as_recorded(small_organization) -> None:
    with FakeAdminApi(small_organization, rate_limit=(2, 30)) as api:  # a long window: no sleeping here
        before = datetime.now(timezone.utc)
        served = [get(api, ME_PATH), get(api, ME_PATH)]
        refused = get(api, ME_PATH)

        for response in served:
            assert_served_without_rate_limit_headers(response)
        reset = assert_rate_limited(refused, 2)
        # The window opened at the first request: it resets W seconds later, rounded up to the whole second.
        assert before + timedelta(seconds=30) <= reset <= datetime.now(timezone.utc) + timedelta(seconds=31)
        log = api.api_requests()
        assert [r.status for r in log] == [200, 200, 429]
        assert log[-1].reset_at == reset and log[0].reset_at is None
        assert log[0].at <= log[1].at <= log[2].at and api.elapsed() == log[2].at - log[0].at


def test_the_window_is_fixed_and_refused_requests_do_not_extend_it(small_organization) -> None:
    clock = ManualClock(datetime(2026, 11, 25, 12, 0, 0, 250000, tzinfo=timezone.utc))
    with FakeAdminApi(small_organization, rate_limit=(2, 1.5), clock=clock) as api:
        assert get(api, ME_PATH).ok
        clock.advance(1.0)
        assert get(api, ME_PATH).ok  # still the first window: it opened at 12:00:00.25
        resets = set()
        for _ in range(5):  # hammering inside the window changes nothing
            resets.add(assert_rate_limited(get(api, ME_PATH), 2))
            clock.advance(0.1)
        assert resets == {datetime(2026, 11, 25, 12, 0, 2, tzinfo=timezone.utc)}  # 00.25 + 1.5, rounded up

        clock.now = datetime(2026, 11, 25, 12, 0, 1, 999999, tzinfo=timezone.utc)
        assert_rate_limited(get(api, ME_PATH), 2)  # a microsecond early is still refused
        clock.now = datetime(2026, 11, 25, 12, 0, 2, tzinfo=timezone.utc)
        assert get(api, ME_PATH).ok  # at the announced reset: served, and a new window opens
        assert get(api, ME_PATH).ok
        assert assert_rate_limited(get(api, ME_PATH), 2) == datetime(2026, 11, 25, 12, 0, 4, tzinfo=timezone.utc)


def test_the_example_limit_of_two_requests_per_seventy_seconds(small_organization) -> None:
    clock = ManualClock(datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc))
    with FakeAdminApi(small_organization, rate_limit=(2, 70.0), clock=clock) as api:
        assert get(api, ME_PATH).ok and get(api, ME_PATH).ok
        clock.advance(69)
        refused = get(api, ME_PATH)
        assert refused.headers["anthropic-ratelimit-requests-reset"] == "2026-11-25T12:01:10Z"
        clock.advance(1)
        assert get(api, ME_PATH).ok


def test_waiting_until_the_announced_reset_always_succeeds(small_organization) -> None:
    """On the real clock: after each 429, one request sent at the announced reset is served (the fixed window and
    refused requests are checked to the microsecond above, on a manual clock)."""
    with FakeAdminApi(small_organization, rate_limit=(2, 1.0)) as api:
        for _ in range(2):
            while (response := get(api, ME_PATH)).ok:
                pass
            reset = assert_rate_limited(response, 2)
            time.sleep(max(0.0, (reset - datetime.now(timezone.utc)).total_seconds()))
            assert_served_without_rate_limit_headers(get(api, ME_PATH))
        assert [r.status for r in api.api_requests()].count(429) == 2


def test_the_limit_is_shared_by_every_key_and_every_endpoint(small_organization) -> None:
    other_key = "sk-ant-admin01-second-key"
    first = day_start(small_organization.first_day)
    with FakeAdminApi(small_organization, admin_keys=(DEFAULT_ADMIN_KEY, other_key), rate_limit=(4, 60)) as api:
        assert get(api, USAGE_PATH, {"starting_at": first}).ok
        assert get(api, COST_PATH, {"starting_at": first}, {**HEADERS, "x-api-key": other_key}).ok
        assert error_of(get(api, USAGE_PATH, {"starting_at": "2025-01-01T06:00:00Z"}))[0] == 400  # counts too
        assert get(api, USERS_PATH, headers={**HEADERS, "x-api-key": other_key}).ok
        for path, key in ((ME_PATH, DEFAULT_ADMIN_KEY), (COST_PATH, other_key), (USAGE_PATH, DEFAULT_ADMIN_KEY)):
            assert_rate_limited(get(api, path, {"starting_at": first} if path != ME_PATH else None,
                                    {**HEADERS, "x-api-key": key}), 4)


def test_refused_keys_and_injected_faults_do_not_count(small_organization) -> None:
    with FakeAdminApi(small_organization, rate_limit=(2, 60)) as api:
        api.faults.faults = [parse_fault("503@1"), parse_fault("bad-page-token@2")]
        assert get(api, ME_PATH).status_code == 503
        assert get(api, ME_PATH).status_code == 400
        assert get(api, ME_PATH, headers={**HEADERS, "x-api-key": "sk-ant-admin01-unknown"}).status_code == 401
        assert get(api, ME_PATH, headers={**HEADERS, "x-api-key": "sk-ant-api03-regular"}).status_code == 403
        assert get(api, ME_PATH).ok and get(api, ME_PATH).ok
        assert_rate_limited(get(api, ME_PATH), 2)


def test_no_limit_unless_configured(api) -> None:
    responses = [get(api, ME_PATH) for _ in range(25)]
    assert all(r.ok for r in responses)
    assert_served_without_rate_limit_headers(responses[-1])


def test_the_limit_can_be_set_and_lifted_on_a_running_stand_in(small_organization) -> None:
    with FakeAdminApi(small_organization) as api:
        api.rate_limit = (1, 60)
        assert get(api, ME_PATH).ok
        assert_rate_limited(get(api, ME_PATH), 1)
        api.rate_limit = None
        assert get(api, ME_PATH).ok


def test_rate_limit_specs() -> None:
    assert parse_rate_limit("2/70") == (2, 70.0) and parse_rate_limit("2/1.5") == (2, 1.5)
    for bad in ("2", "2/x", "0/10", "2/0", "2/70/1"):
        with pytest.raises(ValueError):
            parse_rate_limit(bad)


def test_the_command_line_takes_a_rate_limit() -> None:
    command = [sys.executable, "-m", "integration_tests.fake_admin_api", "--days", "3", "--rate-limit", "1/60"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            url = process.stdout.readline().strip()
            server = SimpleNamespace(url=url)
            assert get(server, ME_PATH).ok
            assert_rate_limited(get(server, ME_PATH), 1)
        finally:
            process.terminate()
    assert process.returncode == 0


# -- x-should-retry and injected 429s ----------------------------------------------------------------------------


@pytest.mark.parametrize("status, retry", [
    (400, "false"), (401, "false"), (403, "false"), (404, "false"), (408, "true"), (409, "true"), (429, "true"),
    (500, "true"), (502, "true"), (503, "true"), (504, "true"), (529, "true"),
])
def test_every_injected_error_says_whether_to_retry(api, status, retry) -> None:
    api.faults.faults = [parse_fault(f"{status}@1")]
    response = get(api, ME_PATH)
    assert response.status_code == status and response.headers["x-should-retry"] == retry


@pytest.mark.parametrize("path, params, headers, status", [
    (ME_PATH, None, {"anthropic-version": "2023-06-01"}, 401),
    (ME_PATH, None, {**HEADERS, "x-api-key": "sk-ant-api03-regular"}, 403),
    ("/v1/organizations/nope", None, HEADERS, 404),
    (USAGE_PATH, {"starting_at": "2025-01-01T06:00:00Z"}, HEADERS, 400),
])
def test_real_errors_say_not_to_retry(api, path, params, headers, status) -> None:
    response = get(api, path, params, headers)
    assert response.status_code == status and response.headers["x-should-retry"] == "false"


def test_an_injected_429_looks_like_the_real_one(api) -> None:
    api.faults.faults = [parse_fault("429@1"), parse_fault("429:reset=3@2"), parse_fault("429:retry-after=1@3"),
                         parse_fault("429:limit=5@4")]
    sent = datetime.now(timezone.utc).replace(microsecond=0)
    default, later, with_retry_after = get(api, ME_PATH), get(api, ME_PATH), get(api, ME_PATH)
    received = datetime.now(timezone.utc)

    assert sent + timedelta(seconds=1) <= assert_rate_limited(default, 50) <= received + timedelta(seconds=2)
    assert sent + timedelta(seconds=3) <= assert_rate_limited(later, 50) <= received + timedelta(seconds=4)
    assert with_retry_after.headers["retry-after"] == "1"
    assert with_retry_after.headers["anthropic-ratelimit-requests-reset"] and with_retry_after.status_code == 429
    assert get(api, ME_PATH).headers["anthropic-ratelimit-requests-limit"] == "5"
    assert get(api, ME_PATH).ok
    assert [r.reset_at is not None for r in api.api_requests()] == [True, True, True, True, False]


def test_an_injected_429_announces_the_configured_limit(small_organization) -> None:
    with FakeAdminApi(small_organization, rate_limit=(7, 60)) as api:
        api.faults.faults = [parse_fault("429@1")]
        assert_rate_limited(get(api, ME_PATH), 7)


def test_fault_specs_parse_as_before() -> None:
    assert parse_fault("429@4") == Fault("status", ((4, 4),), status=429)
    assert parse_fault("429:retry-after=1@2") == Fault("status", ((2, 2),), status=429, retry_after="1")
    assert parse_fault("503@5-6") == Fault("status", ((5, 6),), status=503)
    assert parse_fault("401@9-") == Fault("status", ((9, None),), status=401)
    assert parse_fault("slow:seconds=3@1") == Fault("slow", ((1, 1),), seconds=3.0)
    assert parse_fault("429:reset=2@3") == Fault("status", ((3, 3),), status=429, reset=2.0)


# -- whole UTC days --------------------------------------------------------------------------------------------


def today() -> date:
    return datetime.now(timezone.utc).date()


@pytest.mark.parametrize("params", [
    lambda d: {"starting_at": day_start(d), "ending_at": f"{d}T23:59:59Z"},
    lambda d: {"starting_at": f"{d}T00:00:00Z", "ending_at": f"{d + timedelta(days=1)}T00:00:01Z"},
    lambda d: {"starting_at": f"{d}T12:00:00Z", "ending_at": day_start(d + timedelta(days=1))},
    lambda d: {"starting_at": day_start(d), "ending_at": day_start(d)},
    lambda d: {"starting_at": day_start(d + timedelta(days=1)), "ending_at": day_start(d)},
    lambda d: {"starting_at": f"{today() - timedelta(days=1)}T06:30:00Z"},  # "now - 24h", no ending_at
    lambda d: {"starting_at": day_start(today())},  # no ending_at: the report ends at today 00:00Z
    lambda d: {"starting_at": day_start(today() + timedelta(days=1))},
], ids=["ends 23:59:59", "ends 00:00:01", "starts at noon", "empty", "reversed", "now - 24h", "today", "tomorrow"])
def test_the_cost_report_refuses_ranges_that_are_not_whole_utc_days(api, organization, params) -> None:
    response = get(api, COST_PATH, params(organization.first_day))
    assert error_of(response) == (400, "invalid_request_error", INVALID_DATE_RANGE)
    assert response.headers["x-should-retry"] == "false"


def test_without_ending_at_the_cost_report_ends_at_the_start_of_today(api) -> None:
    yesterday = today() - timedelta(days=1)
    body = get(api, COST_PATH, {"starting_at": day_start(yesterday)}).json()
    assert [(b["starting_at"], b["ending_at"]) for b in body["data"]] == [(day_start(yesterday), day_start(today()))]
    assert body["has_more"] is False


@pytest.mark.parametrize("width, starting_at, ending_at, refused", [
    ("1d", "T00:00:00Z", "T00:00:00Z", False),
    ("1d", "T00:00:00Z", "T00:00:01Z", True),
    ("1h", "T06:00:00Z", "T10:00:00Z", False),
    ("1h", "T06:00:00Z", "T10:30:00Z", True),
    ("1m", "T06:00:00Z", "T06:10:00Z", False),
    ("1m", "T06:00:00Z", "T06:10:30Z", True),
])
def test_the_usage_report_refuses_an_end_off_the_bucket_grid(api, organization, width, starting_at, ending_at,
                                                             refused) -> None:
    day = organization.first_day
    response = get(api, USAGE_PATH, {"starting_at": f"{day}{starting_at}", "bucket_width": width,
                                     "ending_at": f"{day + timedelta(days=1 if width == '1d' else 0)}{ending_at}"})
    if refused:
        assert error_of(response) == (400, "invalid_request_error", INVALID_DATE_RANGE)
        assert response.headers["x-should-retry"] == "false"
    else:
        assert response.ok and response.json()["data"]


# -- pages and empty buckets -----------------------------------------------------------------------------------


def pages_of(api, path, params):
    pages = []
    while True:
        body = get(api, path, params).json()
        pages.append(body)
        if not body["has_more"]:
            assert body["next_page"] is None
            return pages
        token = body["next_page"]
        assert token.startswith("page_") and base64.urlsafe_b64decode(token.removeprefix("page_"))
        params = {**params, "page": token}


@pytest.mark.parametrize("path, days, limit, sizes", [
    (USAGE_PATH, 10, 4, [4, 4, 2]),
    (USAGE_PATH, 12, 4, [4, 4, 4]),
    (USAGE_PATH, 7, None, [7]),
    (USAGE_PATH, 8, None, [7, 1]),
    (COST_PATH, 7, 3, [3, 3, 1]),
    (COST_PATH, 31, 31, [31]),
])
def test_every_page_but_the_last_holds_exactly_limit_buckets(api, organization, path, days, limit, sizes) -> None:
    first = organization.first_day
    params = {"starting_at": day_start(first), "ending_at": day_start(first + timedelta(days=days))}
    pages = pages_of(api, path, {**params, "limit": str(limit)} if limit else params)

    assert [len(page["data"]) for page in pages] == sizes
    assert [page["has_more"] for page in pages] == [True] * (len(sizes) - 1) + [False]
    buckets = [bucket for page in pages for bucket in page["data"]]
    assert [b["starting_at"] for b in buckets] == [day_start(first + timedelta(days=n)) for n in range(days)]


def test_pages_without_ending_at_run_to_the_last_whole_day(api, organization) -> None:
    pages = pages_of(api, COST_PATH, {"starting_at": day_start(organization.first_day), "limit": "31"})
    count = (today() - organization.first_day).days
    assert [len(page["data"]) for page in pages] == [31] * (count // 31) + ([count % 31] if count % 31 else [])
    assert pages[-1]["data"][-1]["ending_at"] == day_start(today())


def test_empty_buckets_inside_a_range_are_returned(api, organization) -> None:
    day = organization.first_day
    minutes = sorted({(row.at.hour, row.at.minute) for row in organization.usage_rows(day)})
    hour = next(h for h in range(24) if len([m for m in minutes if m[0] == h]) >= 2)
    start = datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)
    body = get(api, USAGE_PATH, {"starting_at": f"{start:%Y-%m-%dT%H:%M:%SZ}", "bucket_width": "1m", "limit": "60",
                                 "ending_at": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"}).json()

    assert len(body["data"]) == 60 and body["has_more"] is False
    filled = [bool(bucket["results"]) for bucket in body["data"]]
    assert filled == [(hour, minute) in minutes for minute in range(60)]
    inside = filled[filled.index(True):len(filled) - filled[::-1].index(True)]
    assert False in inside  # an empty bucket between two with usage
    assert all(set(bucket) == {"starting_at", "ending_at", "results"} for bucket in body["data"])


# -- dimension keys that older days lack -----------------------------------------------------------------------


def one_day(api, path, day, group_by=()):
    params = {"starting_at": day_start(day), "ending_at": day_start(day + timedelta(days=1)), "group_by[]": group_by}
    return get(api, path, params).json()["data"][0]["results"]


def test_keys_appear_on_the_middle_day_by_default(small_organization) -> None:
    assert small_organization.keys_appear_on == small_organization.first_day + timedelta(days=5)
    explicit = Organization(seed=3, days=10, rows_per_day=10, keys_appear_on=date(2020, 1, 1))
    assert explicit.keys_appear_on == date(2020, 1, 1)


@pytest.mark.parametrize("group_by", [(), ("model", "workspace_id", "api_key_id", "service_tier", "context_window")])
def test_older_usage_rows_lack_the_newer_keys(api, organization, group_by) -> None:
    new_day = organization.keys_appear_on
    old = one_day(api, USAGE_PATH, new_day - timedelta(days=1), group_by)
    new = one_day(api, USAGE_PATH, new_day, group_by)

    assert old and all(not LATE_USAGE_KEYS & set(row) for row in old)
    assert new and all(row[key] is None for row in new for key in LATE_USAGE_KEYS)


def test_grouping_by_a_newer_key_on_an_older_day_returns_it(api, organization) -> None:
    rows = one_day(api, USAGE_PATH, organization.keys_appear_on - timedelta(days=1), ("inference_geo",))
    assert len(rows) > 1 and {row["inference_geo"] for row in rows} <= {"global", "us", "not_available"}
    assert all("account_id" not in row and "service_account_id" not in row for row in rows)


@pytest.mark.parametrize("group_by", [(), ("workspace_id", "description")])
def test_older_cost_rows_lack_inference_geo(api, organization, group_by) -> None:
    new_day = organization.keys_appear_on
    old = one_day(api, COST_PATH, new_day - timedelta(days=1), group_by)
    new = one_day(api, COST_PATH, new_day, group_by)

    assert old and all(set(row) == OLD_COST_KEYS for row in old)
    assert new and all(set(row) == OLD_COST_KEYS | {"inference_geo"} for row in new)
    if group_by:
        assert any(row["inference_geo"] for row in new)


@pytest.fixture(scope="module")
def keys_late_and_early():
    late = Organization(seed=5, days=4, rows_per_day=20)
    early = Organization(seed=5, days=4, rows_per_day=20, keys_appear_on=late.first_day)
    with FakeAdminApi(late) as late_api, FakeAdminApi(early) as early_api:
        yield late_api, early_api


@pytest.mark.parametrize("path, group_by", [
    (USAGE_PATH, ()),
    (USAGE_PATH, ("model", "workspace_id", "api_key_id", "service_tier", "context_window")),
    (USAGE_PATH, ("inference_geo", "account_id")),
    (COST_PATH, ("workspace_id", "description")),
])
def test_only_the_keys_differ_not_the_rows(keys_late_and_early, path, group_by) -> None:
    """The same organization with the keys from its first day: every row and sum is the same, less the keys."""
    late_api, early_api = keys_late_and_early
    day = late_api.organization.first_day
    assert day < late_api.organization.keys_appear_on and day == early_api.organization.keys_appear_on
    without, with_keys = one_day(late_api, path, day, group_by), one_day(early_api, path, day, group_by)
    assert without and [{k: v for k, v in row.items() if k in without[0]} for row in with_keys] == without
