"""The stand-in's Claude Enterprise engagement endpoints keep the wire contract of issue 22 over real HTTP: Analytics
key only, one day or a range, the 2026-01-01 floor, the too-recent error naming the latest day, pages on next_page
alone, recent days revised as the clock moves on, and members nobody documented.

Each stand-in runs on a clock the test sets, so the latest available days and the revisions hold on any date.
"""

from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List

import pytest
import requests

from integration_tests.fake_admin_api import (
    ANALYTICS_ARTIFACTS_PATH,
    ANALYTICS_CHAT_PROJECTS_PATH,
    ANALYTICS_CONNECTORS_PATH,
    ANALYTICS_PLUGINS_PATH,
    ANALYTICS_SKILLS_PATH,
    ANALYTICS_SUMMARIES_PATH,
    ANALYTICS_USERS_PATH,
    DEFAULT_ADMIN_KEY,
    DEFAULT_ANALYTICS_KEY,
    ENGAGEMENT_PATHS,
    Engagement,
    FakeAdminApi,
    Organization,
)

HEADERS = {"x-api-key": DEFAULT_ANALYTICS_KEY, "anthropic-version": "2023-06-01"}
NOW = datetime(2026, 6, 15, 10, 30, tzinfo=timezone.utc)  # a Monday
LATEST = date(2026, 6, 13)  # two days before NOW: users and every per-entity endpoint
LATEST_SUMMARY = date(2026, 6, 14)  # one day before NOW
WEDNESDAY = date(2026, 6, 10)  # the week's busiest day
PER_DAY_PATHS = [p for p in ENGAGEMENT_PATHS if p != ANALYTICS_SUMMARIES_PATH]
RANGE_PATHS = [p for p in PER_DAY_PATHS if p != ANALYTICS_ARTIFACTS_PATH]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def organization(seed: int = 5) -> Organization:
    return Organization(seed=seed, days=40, rows_per_day=20, last_day=NOW.date() - timedelta(days=1))


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAdminApi]:
    """A stand-in whose clock stays at NOW."""
    with FakeAdminApi(organization(), clock=Clock(NOW)) as api:
        yield api


@pytest.fixture(scope="module")
def moving() -> Iterator[FakeAdminApi]:
    """A stand-in whose clock a test sets with `at` (one server for all: stopping one takes half a second)."""
    with FakeAdminApi(organization(), clock=Clock(NOW)) as api:
        yield api


def at(api: FakeAdminApi, now: datetime) -> FakeAdminApi:
    api.clock.now = now
    for path in ENGAGEMENT_PATHS:
        api.engagement.set_latest_day(path, None)
    return api


def get(api, path, params=None, headers=HEADERS):
    return requests.get(api.url + path, params=params, headers=headers, timeout=30)


def error_of(response):
    body = response.json()
    assert body["type"] == "error" and set(body) == {"type", "error", "request_id"}
    return response.status_code, body["error"]["type"], body["error"]["message"]


def pages(api, path, params) -> List[Dict[str, Any]]:
    """Every page of a query, following next_page alone."""
    bodies, page = [], None
    for _ in range(100):
        response = get(api, path, {**params, **({"page": page} if page else {})})
        assert response.status_code == 200, response.text
        bodies.append(response.json())
        page = bodies[-1]["next_page"]
        if page is None:
            return bodies
    raise AssertionError("pages never ended")


def served(api, path, params) -> List[Dict[str, Any]]:
    return [row for body in pages(api, path, params) for row in body["data"]]


def counts(value: Any, prefix: str = "") -> Dict[str, int]:
    """Every count of a row, by its path of member names."""
    if isinstance(value, dict):
        return {name: count for key, member in value.items()
                for name, count in counts(member, f"{prefix}{key}.").items()}
    return {prefix[:-1]: value} if isinstance(value, int) and not isinstance(value, bool) else {}


# -- keys and headers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENGAGEMENT_PATHS)
def test_an_analytics_key_reads_every_engagement_endpoint_and_an_admin_key_none(api, path) -> None:
    day = {"starting_date": LATEST_SUMMARY.isoformat()} if path == ANALYTICS_SUMMARIES_PATH else {"date": "2026-06-12"}
    assert get(api, path, day).status_code == 200
    assert error_of(get(api, path, day, {**HEADERS, "x-api-key": DEFAULT_ADMIN_KEY})) == (
        403, "permission_error", "This endpoint requires an Analytics API key (read:analytics) of a Claude Enterprise "
                                 "organization; an Admin API key cannot read Claude Enterprise analytics.")


@pytest.mark.parametrize("headers, expected", [
    ({**HEADERS, "x-api-key": "sk-ant-api03-regular"}, (403, "permission_error")),
    ({**HEADERS, "x-api-key": "sk-ant-admin01-unknown"}, (401, "authentication_error")),
    ({"anthropic-version": "2023-06-01"}, (401, "authentication_error")),
    ({"x-api-key": DEFAULT_ANALYTICS_KEY}, (400, "invalid_request_error")),
], ids=["regular key", "unknown key", "no key", "no version"])
def test_other_keys_and_a_missing_version_are_refused(api, headers, expected) -> None:
    assert error_of(get(api, ANALYTICS_USERS_PATH, {"date": "2026-06-12"}, headers))[:2] == expected


def test_no_beta_header_is_needed_and_one_sent_is_not_refused(api) -> None:
    beta = {**HEADERS, "anthropic-beta": "analytics-usage-cost-2026-08-24"}
    assert get(api, ANALYTICS_SKILLS_PATH, {"date": "2026-06-12"}, beta).json() == \
        get(api, ANALYTICS_SKILLS_PATH, {"date": "2026-06-12"}).json()


def test_the_request_log_shows_engagement_requests_like_any_other(api) -> None:
    api.clear_log()
    get(api, ANALYTICS_CONNECTORS_PATH, {"date": "2026-06-12", "limit": "5"})
    get(api, ANALYTICS_CONNECTORS_PATH, {"date": "2026-06-12"}, {**HEADERS, "x-api-key": DEFAULT_ADMIN_KEY})
    logged = api.api_requests(ANALYTICS_CONNECTORS_PATH)
    assert [(r.query, r.status, r.headers["x-api-key-kind"]) for r in logged] == [
        ({"date": ["2026-06-12"], "limit": ["5"]}, 200, "analytics"), ({"date": ["2026-06-12"]}, 403, "admin")]


# -- parameters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, params, message", [
    (ANALYTICS_USERS_PATH, {}, "date: Field required (or starting_date, for a range)"),
    (ANALYTICS_USERS_PATH, {"date": "2026-06-10", "starting_date": "2026-06-10"},
     "date and starting_date cannot be used together: give date for one day, or starting_date (and ending_date) "
     "for a range"),
    (ANALYTICS_USERS_PATH, {"date": "2026-6-10"}, "date: Input should be a valid date in the format YYYY-MM-DD"),
    (ANALYTICS_USERS_PATH, {"date": "2026-06-10T00:00:00Z"},
     "date: Input should be a valid date in the format YYYY-MM-DD"),
    (ANALYTICS_SKILLS_PATH, {"starting_date": "June 1"},
     "starting_date: Input should be a valid date in the format YYYY-MM-DD"),
    (ANALYTICS_SKILLS_PATH, {"starting_date": "2026-06-01", "ending_date": "2026-06-31"},
     "ending_date: Input should be a valid date in the format YYYY-MM-DD"),
    (ANALYTICS_SKILLS_PATH, {"ending_date": "2026-06-10"}, "date: Field required (or starting_date, for a range)"),
    (ANALYTICS_SKILLS_PATH, {"date": "2026-06-09", "ending_date": "2026-06-10"}, "ending_date: requires starting_date"),
    (ANALYTICS_SKILLS_PATH, {"starting_date": "2026-06-10", "ending_date": "2026-06-10"},
     "ending_date: must be after starting_date"),
    (ANALYTICS_PLUGINS_PATH, {"starting_date": "2026-01-01", "ending_date": "2027-01-03"},
     "ending_date: must be at most 366 days after starting_date"),
    (ANALYTICS_ARTIFACTS_PATH, {}, "date: Field required"),
    (ANALYTICS_ARTIFACTS_PATH, {"starting_date": "2026-06-10"}, "starting_date: Extra inputs are not permitted"),
    (ANALYTICS_SUMMARIES_PATH, {}, "starting_date: Field required"),
    (ANALYTICS_SUMMARIES_PATH, {"date": "2026-06-10"}, "date: Extra inputs are not permitted"),
    (ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-06-10", "limit": "10"}, "limit: Extra inputs are not permitted"),
    (ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-06-10", "ending_date": "2026-06-09"},
     "ending_date: must be after starting_date"),
    (ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-01-01", "ending_date": "2027-01-03"},
     "ending_date: must be at most 366 days after starting_date"),
    (ANALYTICS_USERS_PATH, {"date": "2026-06-10", "limit": "0"}, "limit: Input should be between 1 and 1000"),
    (ANALYTICS_USERS_PATH, {"date": "2026-06-10", "limit": "1001"}, "limit: Input should be between 1 and 1000"),
    (ANALYTICS_USERS_PATH, {"date": "2026-06-10", "limit": "ten"}, "limit: Input should be a valid integer"),
    (ANALYTICS_USERS_PATH, {"date": ["2026-06-10", "2026-06-11"]}, "date: expected a single value"),
    (ANALYTICS_USERS_PATH, {"date": "2026-06-10", "group_by[]": "rbac_group_id"},
     "group_by[]: Extra inputs are not permitted"),
    (ANALYTICS_USERS_PATH, {"date": "2026-06-10", "page": "page_bogus"}, "Invalid page token"),
])
def test_every_parameter_rule(api, path, params, message) -> None:
    assert error_of(get(api, path, params)) == (400, "invalid_request_error", message)


@pytest.mark.parametrize("path", ENGAGEMENT_PATHS)
def test_nothing_before_2026_01_01(moving, path) -> None:
    api = at(moving, datetime(2026, 1, 10, 12, tzinfo=timezone.utc))
    name = "starting_date" if path == ANALYTICS_SUMMARIES_PATH else "date"
    assert error_of(get(api, path, {name: "2025-12-31"})) == (
        400, "invalid_request_error", f"{name}: must be no earlier than 2026-01-01")
    assert get(api, path, {name: "2026-01-01"}).status_code == 200
    if path in RANGE_PATHS:
        assert error_of(get(api, path, {"starting_date": "2025-12-31"}))[2] == \
            "starting_date: must be no earlier than 2026-01-01"


# -- freshness ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PER_DAY_PATHS)
def test_a_day_after_the_latest_available_one_is_refused_naming_it(api, path) -> None:
    assert api.engagement.latest_day(path) == LATEST
    assert get(api, path, {"date": LATEST.isoformat()}).status_code == 200
    assert error_of(get(api, path, {"date": "2026-06-14"})) == (
        400, "invalid_request_error",
        "Data for 2026-06-14 is not available yet. The latest available date is 2026-06-13.")


def test_summaries_lag_one_day_and_refuse_a_range_whose_last_day_is_too_recent(api) -> None:
    assert api.engagement.latest_day(ANALYTICS_SUMMARIES_PATH) == LATEST_SUMMARY
    assert get(api, ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-06-01", "ending_date": "2026-06-15"}).ok
    too_late = get(api, ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-06-01", "ending_date": "2026-06-16"})
    assert error_of(too_late)[2] == "Data for 2026-06-15 is not available yet. The latest available date is 2026-06-14."
    assert error_of(get(api, ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-06-15"}))[2] \
        == "Data for 2026-06-15 is not available yet. The latest available date is 2026-06-14."


def test_the_latest_day_can_be_pinned_per_endpoint_and_follows_the_clock_otherwise(moving) -> None:
    api = at(moving, NOW)
    api.engagement.set_latest_day(ANALYTICS_SKILLS_PATH, date(2026, 6, 11))
    assert error_of(get(api, ANALYTICS_SKILLS_PATH, {"date": "2026-06-12"}))[2] == \
        "Data for 2026-06-12 is not available yet. The latest available date is 2026-06-11."
    assert get(api, ANALYTICS_CONNECTORS_PATH, {"date": "2026-06-12"}).ok
    api.clock.now += timedelta(days=1)
    assert api.engagement.latest_day(ANALYTICS_SKILLS_PATH) == date(2026, 6, 11)
    assert api.engagement.latest_day("connectors") == date(2026, 6, 14)
    api.engagement.set_latest_day("skills", None)
    assert get(api, ANALYTICS_SKILLS_PATH, {"date": "2026-06-14"}).ok


# -- pages and rows -----------------------------------------------------------------------------------------


def test_a_busy_day_pages_at_limit_1000_on_next_page_alone(api) -> None:
    bodies = pages(api, ANALYTICS_USERS_PATH, {"date": WEDNESDAY.isoformat(), "limit": "1000"})
    assert [len(body["data"]) for body in bodies][0] == 1000 and len(bodies) == 2
    assert all(set(body) == {"data", "next_page"} for body in bodies)  # no has_more
    rows = [row for body in bodies for row in body["data"]]
    emails = [row["user"]["email_address"] for row in rows]
    assert emails == sorted(set(emails)) and len(rows) > 1000
    assert rows == api.engagement.rows(ANALYTICS_USERS_PATH, WEDNESDAY)


def test_every_week_has_a_day_with_more_than_1000_active_users_at_every_revision_stage(api, moving) -> None:
    summaries = served(api, ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-04-20", "ending_date": "2026-06-15"})
    daily = [row["daily_active_user_count"] for row in summaries]
    assert all(max(daily[i:i + 7]) > 1000 for i in range(len(daily) - 6))
    fresh = at(moving, datetime(2026, 6, 12, 10, tzinfo=timezone.utc))
    assert fresh.engagement.stage("users", WEDNESDAY) == 0
    assert len(served(fresh, ANALYTICS_USERS_PATH, {"date": WEDNESDAY.isoformat(), "limit": "1000"})) > 1000


@pytest.mark.parametrize("path", PER_DAY_PATHS)
def test_every_page_size_serves_the_same_rows_as_the_truth(api, path) -> None:
    truth = api.engagement.rows(path, date(2026, 6, 11))
    assert truth and served(api, path, {"date": "2026-06-11"}) == truth
    third = len(truth) // 3 + 1  # three pages
    assert served(api, path, {"date": "2026-06-11", "limit": str(third)}) == truth


def test_the_default_page_holds_100_rows(api) -> None:
    bodies = pages(api, ANALYTICS_CHAT_PROJECTS_PATH, {"date": WEDNESDAY.isoformat()})
    assert len(bodies) >= 2 and len(bodies[0]["data"]) == 100


def test_a_page_token_is_bound_to_its_query(api) -> None:
    token = get(api, ANALYTICS_USERS_PATH, {"date": "2026-06-11", "limit": "10"}).json()["next_page"]
    assert get(api, ANALYTICS_USERS_PATH, {"date": "2026-06-11", "limit": "10", "page": token}).ok
    for other in ({"date": "2026-06-12", "limit": "10"}, {"date": "2026-06-11", "limit": "11"}):
        assert error_of(get(api, ANALYTICS_USERS_PATH, {**other, "page": token}))[2] == "Invalid page token"
    assert error_of(get(api, ANALYTICS_SKILLS_PATH, {"date": "2026-06-11", "limit": "10", "page": token}))[2] == \
        "Invalid page token"


def test_rows_carry_nested_metrics_null_objects_and_undocumented_members_and_no_date(api) -> None:
    users = api.engagement.rows("users", WEDNESDAY)
    assert {"user", "chat_metrics", "claude_code_metrics", "cowork_metrics", "web_search_count",
            "last_activity_date"} <= set.intersection(*(set(row) for row in users))
    assert set(users[0]["user"]) == {"id", "email_address", "type"}
    coders = [row["claude_code_metrics"] for row in users if row["claude_code_metrics"] is not None]
    assert coders and len(coders) < len(users)  # some never used Claude Code: null, not an empty object
    assert set(coders[0]["core_metrics"]["lines_of_code"]) == {"added_count", "removed_count"}
    assert set(coders[0]["tool_actions"]["edit_tool"]) == {"accepted_count", "rejected_count"}
    assert any(row.get("design_metrics") for row in users) and any("voice_message_count" in row for row in users)
    for path, members in [
        (ANALYTICS_SKILLS_PATH, {"office_metrics"}), (ANALYTICS_CONNECTORS_PATH, {"failed_call_count"}),
        (ANALYTICS_PLUGINS_PATH, {"command_invocation_count"}),
    ]:
        rows = [row for day in (WEDNESDAY, WEDNESDAY + timedelta(days=1)) for row in api.engagement.rows(path, day)]
        assert any(members <= set(row) for row in rows) and not all(members <= set(row) for row in rows)
    plugins = {row["plugin_name"]: row["plugin_id"] for row in api.engagement.rows("plugins", WEDNESDAY)}
    assert plugins["third-party"] is None and all(plugins[name] for name in plugins if name != "third-party")
    artifacts = api.engagement.rows("artifacts", WEDNESDAY)
    assert [(row["artifact_type"], row["is_shared"]) for row in artifacts] == sorted(
        (kind, shared) for kind in {row["artifact_type"] for row in artifacts} for shared in (False, True))
    for path in PER_DAY_PATHS:
        assert not any("date" in row for row in api.engagement.rows(path, WEDNESDAY))


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(api) -> None:
    twin, other = Engagement(organization(), Clock(NOW)), Engagement(organization(seed=6), Clock(NOW))
    for path in ENGAGEMENT_PATHS:
        assert twin.rows(path, WEDNESDAY) == api.engagement.rows(path, WEDNESDAY)
    assert other.rows("users", WEDNESDAY) != api.engagement.rows("users", WEDNESDAY)


def test_the_truth_is_a_copy_a_test_may_change(api) -> None:
    truth = api.engagement.rows("skills", WEDNESDAY)
    truth[0]["date"] = WEDNESDAY.isoformat()
    assert "date" not in served(api, ANALYTICS_SKILLS_PATH, {"date": WEDNESDAY.isoformat()})[0]


# -- range mode and summaries -------------------------------------------------------------------------------


def test_range_mode_aggregates_each_entity_over_the_range_not_per_day(api) -> None:
    days = [date(2026, 6, 8) + timedelta(days=offset) for offset in range(3)]
    ranged = served(api, ANALYTICS_USERS_PATH, {"starting_date": "2026-06-08", "ending_date": "2026-06-11",
                                                "limit": "1000"})
    assert ranged == api.engagement.range_rows("users", days[0], days[-1] + timedelta(days=1))
    per_day = {day: {row["user"]["id"]: row for row in api.engagement.rows("users", day)} for day in days}
    ids = [row["user"]["id"] for row in ranged]
    assert sorted(set(ids)) == sorted(set().union(*per_day.values())) and len(ids) == len(set(ids))
    assert len(ids) < sum(len(rows) for rows in per_day.values())  # one row per user, not per user and day
    for row in ranged[:50]:
        daily = [per_day[day][row["user"]["id"]] for day in days if row["user"]["id"] in per_day[day]]
        assert row["chat_metrics"]["message_count"] == sum(d["chat_metrics"]["message_count"] for d in daily)
        distinct = [d["chat_metrics"]["distinct_conversation_count"] for d in daily]
        assert max(distinct) <= row["chat_metrics"]["distinct_conversation_count"] <= sum(distinct)
        assert row["last_activity_date"] == max(d["last_activity_date"] for d in daily)


@pytest.mark.parametrize("path", RANGE_PATHS)
def test_range_mode_without_an_end_runs_through_the_latest_day(api, path) -> None:
    assert served(api, path, {"starting_date": "2026-06-10", "limit": "1000"}) == \
        api.engagement.range_rows(path, date(2026, 6, 10), LATEST + timedelta(days=1))


def test_summaries_one_row_per_day_in_one_page_up_to_366_days(moving) -> None:
    api = at(moving, datetime(2027, 1, 5, 9, tzinfo=timezone.utc))
    body = get(api, ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-01-01", "ending_date": "2027-01-02"}).json()
    assert body["next_page"] is None and len(body["data"]) == 366
    assert [row["starting_at"] for row in body["data"][:2]] == ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]
    assert body["data"][-1]["ending_at"] == "2027-01-02T00:00:00Z"
    one = get(api, ANALYTICS_SUMMARIES_PATH, {"starting_date": "2026-12-30"}).json()["data"]
    assert one == api.engagement.rows("summaries", date(2026, 12, 30)) == [body["data"][363]]


def test_summaries_count_the_user_rows_they_summarise(api) -> None:
    for day in (WEDNESDAY, LATEST):
        summary, = api.engagement.rows("summaries", day)
        users = api.engagement.rows("users", day)
        assert summary["daily_active_user_count"] == len(users)
        assert summary["daily_adoption_rate"] == round(len(users) / summary["assigned_seat_count"], 4)
        assert summary["daily_active_user_count"] <= summary["weekly_active_user_count"] \
            <= summary["monthly_active_user_count"] <= summary["assigned_seat_count"]
        assert summary["claude_code_daily_active_user_count"] == sum(
            row["claude_code_metrics"] is not None for row in users)


# -- revisions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PER_DAY_PATHS)
def test_a_day_is_revised_upwards_until_it_is_three_days_behind_the_latest(moving, path) -> None:
    day = date(2026, 6, 10)
    api = at(moving, datetime(2026, 6, 12, 8, tzinfo=timezone.utc))  # 2026-06-10 is the latest day
    seen = []
    for _ in range(5):
        rows = served(api, path, {"date": day.isoformat(), "limit": "1000"})
        assert rows == api.engagement.rows(path, day)
        seen.append((api.engagement.stage(path, day), rows))
        api.clock.now += timedelta(days=1)
    assert [stage for stage, _ in seen] == [0, 1, 2, 3, 3]
    assert seen[0][1] != seen[1][1] != seen[2][1] != seen[3][1] == seen[4][1]
    key = {ANALYTICS_USERS_PATH: lambda r: r["user"]["id"], ANALYTICS_CHAT_PROJECTS_PATH: lambda r: r["project_id"],
           ANALYTICS_SKILLS_PATH: lambda r: r["skill_name"], ANALYTICS_CONNECTORS_PATH: lambda r: r["connector_name"],
           ANALYTICS_PLUGINS_PATH: lambda r: r["plugin_name"],
           ANALYTICS_ARTIFACTS_PATH: lambda r: (r["artifact_type"], r["is_shared"])}[path]
    for (_, before), (_, after) in zip(seen, seen[1:]):
        later = {key(row): row for row in after}
        assert set(later) >= {key(row) for row in before}  # a row, once served, stays
        changed = 0
        for row in before:
            old, new = counts(row), counts(later[key(row)])
            assert old.keys() == new.keys() and all(old[name] <= new[name] for name in old)
            changed += old != new
        assert changed or before == after
        ratio = sum(sum(counts(row).values()) for row in before) / sum(sum(counts(later[key(row)]).values())
                                                                       for row in before)
        assert 0.9 < ratio <= 1  # a few per cent


def test_users_reported_late_appear_as_their_day_is_revised(moving) -> None:
    api = at(moving, datetime(2026, 6, 12, 8, tzinfo=timezone.utc))
    first = {row["user"]["id"] for row in api.engagement.rows("users", WEDNESDAY)}
    api.clock.now += timedelta(days=3)
    final = {row["user"]["id"] for row in api.engagement.rows("users", WEDNESDAY)}
    assert first < final and len(final - first) < len(final) // 10


def test_summaries_are_revised_with_the_days_they_count(moving) -> None:
    day = date(2026, 6, 10)
    api = at(moving, datetime(2026, 6, 11, 8, tzinfo=timezone.utc))
    daily = []
    for _ in range(4):
        summary, = served(api, ANALYTICS_SUMMARIES_PATH, {"starting_date": day.isoformat()})
        daily.append(summary["daily_active_user_count"])
        api.clock.now += timedelta(days=1)
    assert daily == sorted(daily) and daily[0] < daily[-1]
