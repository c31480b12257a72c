"""messages_usage_hourly through the installed CLI against the stand-in: every hour's records equal the ground truth,
each day's 24 hours sum exactly to that day's messages_usage record, and the syncs make the fewest calls.

The stand-in's organization ends yesterday (UTC), so an hourly range from a past midnight holds the same records
whatever the hour the test runs at; only the number of (empty) hours of today, and so the calls, depend on it.
"""

import math
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, Mapping, Tuple

from integration_tests.connector_cli import configured_catalog, run_connector
from integration_tests.fake_admin_api import USAGE_PATH
from integration_tests.ground_truth import (
    USAGE_TOKENS, day_start, expected_usage, expected_usage_hourly, on_one_hour, usage_by_key,
)

HOURLY = "messages_usage_hourly"
HOURS_PER_REQUEST = 168
DAYS = 10


def hours_by_day(hourly: Mapping[Tuple, Mapping[str, int]]) -> Dict[Tuple, Dict[str, int]]:
    """Hourly rows summed per UTC day and every other key field: what the daily report should say."""
    days: Dict[Tuple, Dict[str, int]] = defaultdict(lambda: dict.fromkeys(USAGE_TOKENS, 0))
    for (hour, *dimensions), sums in hourly.items():
        day = days[(f"{hour[:10]}T00:00:00Z", *dimensions)]
        for name in USAGE_TOKENS:
            day[name] += sums[name]
    return dict(days)


def windows_of(requests: Iterable[Any]) -> list:
    return [(request.query["starting_at"][0], request.query["ending_at"][0]) for request in requests]


def test_each_days_hours_sum_exactly_to_its_daily_record_for_every_token_field_and_dimension(
        api, config, organization) -> None:
    """Given the last ten days of the stand-in read by both streams, Then grouping the hourly records by day gives
    exactly the daily records (every token field, under every model, workspace, key, tier and window), and each hourly
    record is the ground truth's hour."""
    first = organization.last_day - timedelta(days=DAYS - 1)
    hourly_config = {**config, "hourly_start_date": first.isoformat()}
    run = run_connector("read", hourly_config, configured_catalog("messages_usage", HOURLY, sync_mode="full_refresh"))

    assert run.exit_code == 0, run.errors()
    days = [first + timedelta(days=n) for n in range(DAYS)]
    hourly = usage_by_key(run.records(HOURLY))
    daily = {key: sums for key, sums in usage_by_key(run.records("messages_usage")).items()
             if key[0] >= day_start(first)}
    assert hourly == expected_usage_hourly(organization, days)
    assert hours_by_day(hourly) == daily == expected_usage(organization, days)
    # Not vacuous: many hours of each day hold usage, and some groups have usage in more than one hour of a day.
    assert len({key[0] for key in hourly}) >= DAYS * 12
    assert len(hourly) > len(daily)
    for record in run.records(HOURLY):
        start = datetime.strptime(record["starting_at"], "%Y-%m-%dT%H:%M:%SZ")
        assert (start.minute, start.second) == (0, 0)
        assert record["ending_at"] == f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
    assert len({record["row_key"] for record in run.records(HOURLY)}) == len(run.records(HOURLY))


def test_the_first_sync_is_ceil_hours_over_168_calls_and_the_next_reads_only_the_lookback_and_new_hours(
        api, config, organization) -> None:
    """Given an hourly_start_date 20 days back, When syncing twice, Then the first sync makes ceil(hours / 168) calls
    that end at the last whole hour, and the second one call, from the saved hour minus the 118 lookback hours (every
    day messages_usage re-reads with its 3-day lookback)."""
    start = datetime.combine(organization.last_day - timedelta(days=19), datetime.min.time(), timezone.utc)
    hourly_config = {**config, "hourly_start_date": start.date().isoformat()}
    catalog = configured_catalog(HOURLY)

    def two_syncs():
        api.clear_log()
        first = run_connector("read", hourly_config, catalog)
        first_requests = api.api_requests(USAGE_PATH)
        api.clear_log()
        second = run_connector("read", hourly_config, catalog, first.final_states())
        return first, first_requests, second, api.api_requests(USAGE_PATH)

    last_whole_hour, (first, first_requests, second, second_requests) = on_one_hour(two_syncs)

    assert first.exit_code == second.exit_code == 0, first.errors() + second.errors()
    hours = int((last_whole_hour - start) / timedelta(hours=1))
    assert len(first_requests) == math.ceil(hours / HOURS_PER_REQUEST)
    windows = windows_of(first_requests)
    assert windows[0][0] == f"{start:%Y-%m-%dT%H:%M:%SZ}" and windows[-1][1] == f"{last_whole_hour:%Y-%m-%dT%H:%M:%SZ}"
    assert all(request.query["bucket_width"] == ["1h"] and request.query["limit"] == ["168"]
               for request in first_requests)
    last_hour_read = last_whole_hour - timedelta(hours=1)
    [state] = first.final_states()
    assert state["stream"]["stream_state"] == {"starting_at": f"{last_hour_read:%Y-%m-%dT%H:%M:%SZ}"}
    assert windows_of(second_requests) == [(f"{last_hour_read - timedelta(hours=118):%Y-%m-%dT%H:%M:%SZ}",
                                            f"{last_whole_hour:%Y-%m-%dT%H:%M:%SZ}")]
