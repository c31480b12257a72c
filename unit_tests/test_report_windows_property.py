"""Property: whatever the config, saved state, lookback and clock, the daily report streams ask only for whole UTC
days, and messages_usage_hourly only for whole UTC hours.

The reports refuse a range that is not whole days (HTTP 400 "Invalid date range", recorded from the live API), so
every `starting_at` and `ending_at` must be exactly 00:00:00Z. Beside that, the promises the windows have always
kept are checked against an independent computation of the expected windows:
- no day lost and none read twice: each window starts where the previous one ended;
- no request for today's unfinished day, nor for end_date's day (end_date is exclusive);
- the first window starts at the first midnight at or after start_date, or at the saved state's day (no later than
  yesterday's) minus the lookback, whichever is later;
- the fewest calls: 31 whole days per request (the API's maximum page of daily buckets), the last one shorter.

The hourly stream keeps the same promises in hours: every `starting_at` and `ending_at` is HH:00:00Z, no hour is lost
or read twice, the unfinished hour is never asked for, and 168 hours (the most one page of 1h buckets holds) go in a
request. Its first window starts at the first whole hour at or after hourly_start_date, else (without state) 30 days
before the last whole hour, or at the saved state's hour (no later than the last whole one) minus the lookback hours,
and never before start_date's first whole hour.
"""

from datetime import date, datetime, time, timedelta, timezone
from typing import List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import freezegun
import requests_mock
from dateutil.parser import isoparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.state_builder import StateBuilder
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_claude import SourceClaude
from unit_tests.builders import catalog, config

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MAX_DAYS_PER_REQUEST = 31
MAX_HOURS_PER_REQUEST = 168
DEFAULT_HOURLY_HISTORY = 30 * DAY


def empty_window(request, context) -> dict:
    """The page the API answers a window without usage: an empty bucket for each of its days (hours)."""
    query = parse_qs(urlsplit(request.url).query)
    width = HOUR if query["bucket_width"] == ["1h"] else DAY
    moment, end = isoparse(query["starting_at"][0]), isoparse(query["ending_at"][0])
    buckets = []
    while moment < end:
        buckets.append({"starting_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "ending_at": (moment + width).strftime("%Y-%m-%dT%H:%M:%SZ"), "results": []})
        moment += width
    return {"data": buckets, "has_more": False, "next_page": None}
# Clock times that sit on the edges of a UTC day, where off-by-one-second mistakes live; any other time too.
EDGE_TIMES = [time(0, 0, 0), time(0, 0, 1), time(0, 0, 59), time(12, 0), time(23, 59, 59)]
UTC_OFFSETS = ["Z", "+00:00", "+02:00", "-05:00", "+14:00", "-12:00"]
Window = Tuple[datetime, datetime]


def utc(value: str) -> datetime:
    moment = isoparse(value)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def floor_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def ceil_day(moment: datetime) -> datetime:
    return floor_day(moment) if floor_day(moment) == moment else floor_day(moment) + DAY


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    return floor_hour(moment) if floor_hour(moment) == moment else floor_hour(moment) + HOUR


def expected_windows(now: datetime, start_date: str, end_date: Optional[str], state: Optional[str],
                     lookback_days: int) -> List[Window]:
    """The windows the docs promise, computed from first principles rather than with the connector's code."""
    begin = ceil_day(utc(start_date))
    if state is not None:
        # A saved cursor later than the newest bucket that has ended (yesterday's) is read as that bucket.
        saved = min(floor_day(utc(state)), floor_day(now) - DAY)
        begin = max(begin, saved - lookback_days * DAY)
    end = floor_day(min(now, utc(end_date)) if end_date else now)
    windows = []
    while begin < end:
        windows.append((begin, min(begin + MAX_DAYS_PER_REQUEST * DAY, end)))
        begin = windows[-1][1]
    return windows


def expected_hourly_windows(now: datetime, start_date: str, hourly_start_date: Optional[str], end_date: Optional[str],
                            state: Optional[str], lookback_hours: int) -> List[Window]:
    """The hourly windows the issue and the docs promise, from first principles."""
    floor = ceil_hour(utc(start_date))
    if hourly_start_date is not None:
        floor = max(floor, ceil_hour(utc(hourly_start_date)))
    if state is not None:
        # A saved cursor later than the newest hour that has ended is read as that hour.
        saved = min(floor_hour(utc(state)), floor_hour(now) - HOUR)
        begin = max(floor, saved - lookback_hours * HOUR)
    elif hourly_start_date is not None:
        begin = floor
    else:
        begin = max(floor, floor_hour(now) - DEFAULT_HOURLY_HISTORY)
    end = floor_hour(min(now, utc(end_date)) if end_date else now)
    windows = []
    while begin < end:
        windows.append((begin, min(begin + MAX_HOURS_PER_REQUEST * HOUR, end)))
        begin = windows[-1][1]
    return windows


@st.composite
def moments(draw, around: date, days_before: int, days_after: int) -> datetime:
    day = around + timedelta(days=draw(st.integers(-days_before, days_after)))
    clock = draw(st.one_of(st.sampled_from(EDGE_TIMES), st.times()))
    return datetime.combine(day, clock, tzinfo=timezone.utc)


@st.composite
def config_dates(draw, moment: datetime) -> str:
    """A start_date or end_date as users write them: a date, a UTC date-time, or a date-time with an offset."""
    form = draw(st.sampled_from(["date", "utc", "offset"]))
    if form == "date":
        return moment.date().isoformat()
    if form == "utc":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    offset = draw(st.sampled_from(UTC_OFFSETS[1:]))
    sign = 1 if offset[0] == "+" else -1
    local = moment + sign * timedelta(hours=int(offset[1:3]))
    return local.strftime("%Y-%m-%dT%H:%M:%S") + offset


def requested_windows(history, boundary: str = "T00:00:00Z") -> List[Window]:
    """The windows requested, each bound checked to end with `boundary` (T00:00:00Z for days, :00:00Z for hours)."""
    windows = []
    for request in history:
        query = parse_qs(urlsplit(request.url).query)
        [starting_at], [ending_at] = query["starting_at"], query["ending_at"]
        assert starting_at.endswith(boundary) and ending_at.endswith(boundary), (starting_at, ending_at)
        windows.append((utc(starting_at), utc(ending_at)))
    return windows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_report_request_is_whole_utc_days_and_the_fewest(data) -> None:
    stream = data.draw(st.sampled_from(["messages_usage", "cost_report"]), label="stream")
    now = data.draw(moments(date(2027, 6, 15), 900, 900), label="now")
    start_date = data.draw(config_dates(data.draw(moments(now.date(), 120, 1), label="start")), label="start_date")
    end_date = data.draw(st.none() | config_dates(data.draw(moments(now.date(), 100, 5), label="end")),
                         label="end_date")
    state = data.draw(st.none() | config_dates(data.draw(moments(now.date(), 130, 2), label="saved")), label="state")
    state = None if state is not None and "T" not in state else state  # the reports save date-times
    lookback = data.draw(st.none() | st.integers(0, 31), label="lookback_window_days")

    user_config = config(start_date=start_date, **({"end_date": end_date} if end_date else {}),
                         **({"lookback_window_days": lookback} if lookback is not None else {}))
    configured = catalog(stream, SyncMode.incremental)
    saved = StateBuilder().with_stream_state(stream, {"starting_at": state}).build() if state else None
    expected = expected_windows(now, start_date, end_date, state, 3 if lookback is None else lookback)
    with freezegun.freeze_time(now), requests_mock.Mocker() as api:
        api.get(requests_mock.ANY, json=empty_window)
        try:
            source = SourceClaude(catalog=configured, config=user_config, state=saved)
        except AirbyteTracedException as refused:
            # A config is refused, in one sentence, only when there is nothing to read.
            assert (refused.failure_type, expected) == (FailureType.config_error, []), refused.message
            return
        output = read(source, user_config, configured, saved)

    assert not output.errors, output.errors[0].trace.error.internal_message
    windows = requested_windows(api.request_history)
    assert all(later[0] == earlier[1] for earlier, later in zip(windows, windows[1:])), "a day lost or read twice"
    assert all(end <= floor_day(now) for _, end in windows), "asked for today's unfinished day"
    assert windows == expected


# Fewer examples than the daily test, as each reads up to nine windows.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_hourly_request_is_whole_utc_hours_never_the_unfinished_one_and_the_fewest(data) -> None:
    stream = "messages_usage_hourly"
    now = data.draw(moments(date(2027, 6, 15), 900, 900), label="now")
    # Start dates and states as often older than the 30-day default as not: there the state, not the default, must
    # say where the sync goes on.
    month_ago = now.date() - timedelta(days=31)
    started_at = data.draw(moments(now.date(), 30, 1) | moments(month_ago, 60, 0), label="start")
    start_date = data.draw(config_dates(started_at), label="start_date")
    hourly_start_date = data.draw(st.none() | config_dates(data.draw(moments(now.date(), 45, 1), label="hourly")),
                                  label="hourly_start_date")
    end_date = data.draw(st.none() | config_dates(data.draw(moments(now.date(), 40, 3), label="end")), label="end_date")
    saved_at = data.draw(moments(now.date(), 30, 2) | moments(month_ago, 60, 0), label="saved")
    state = data.draw(st.none() | config_dates(saved_at), label="state")
    state = None if state is not None and "T" not in state else state  # the reports save date-times
    lookback = data.draw(st.none() | st.integers(0, 168), label="hourly_lookback_window_hours")

    user_config = config(start_date=start_date, **({"hourly_start_date": hourly_start_date} if hourly_start_date else {}),
                         **({"end_date": end_date} if end_date else {}),
                         **({"hourly_lookback_window_hours": lookback} if lookback is not None else {}))
    configured = catalog(stream, SyncMode.incremental)
    saved = StateBuilder().with_stream_state(stream, {"starting_at": state}).build() if state else None
    expected = expected_hourly_windows(now, start_date, hourly_start_date, end_date, state,
                                       118 if lookback is None else lookback)  # 24 x 3 lookback days + 46
    with freezegun.freeze_time(now), requests_mock.Mocker() as api:
        api.get(requests_mock.ANY, json=empty_window)
        try:
            source = SourceClaude(catalog=configured, config=user_config, state=saved)
        except AirbyteTracedException as refused:
            # The package refuses a config, in one sentence, only when this stream or the daily ones have nothing
            # to read (a start_date or end_date that leaves no whole day, say), or for an hourly_start_date before
            # start_date (elsewhere, the stream starts at start_date).
            nothing_daily = expected_windows(now, start_date, end_date, None, 0) == []
            hourly_before_start = hourly_start_date is not None and utc(hourly_start_date) < utc(start_date)
            assert refused.failure_type == FailureType.config_error, refused.message
            assert expected == [] or nothing_daily or hourly_before_start, refused.message
            return
        output = read(source, user_config, configured, saved)

    assert not output.errors, output.errors[0].trace.error.internal_message
    windows = requested_windows(api.request_history, boundary=":00:00Z")
    assert all(parse_qs(urlsplit(request.url).query)["bucket_width"] == ["1h"] and
               parse_qs(urlsplit(request.url).query)["limit"] == ["168"] for request in api.request_history)
    assert all(later[0] == earlier[1] for earlier, later in zip(windows, windows[1:])), "an hour lost or read twice"
    assert all(end <= floor_hour(now) for _, end in windows), "asked for the unfinished hour"
    assert windows == expected
