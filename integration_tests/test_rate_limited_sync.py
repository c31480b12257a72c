"""A backfill under the organization's rate limit, enforced as the live API does (reference §7.5): beyond N requests
in W seconds a 429 with no retry-after, only the limit and the time it resets.

The connector must finish with exactly the ground truth, draw at most one 429 per window of the limit, wait only as
long as each reset asked, and take about the least time the limit allows.
The CLI runs against the stand-in over real HTTP, with the real clock: the limit here is small (4 requests per
3 seconds) so the test stays quick, and pages are capped at 10 buckets so the backfill needs about thirty requests.
messages_usage_hourly reads the last three days beside the daily reports, under the same limit.
"""

import math
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from integration_tests.connector_cli import configured_catalog, run_connector
from integration_tests.fake_admin_api import COST_PATH, DEFAULT_ADMIN_KEY, USAGE_PATH, FakeAdminApi
from integration_tests.ground_truth import (
    cost_by_key, expected_cost, expected_usage, expected_usage_hourly, usage_by_key,
)

LIMIT, WINDOW_SECONDS = 4, 3.0
HOURLY_DAYS = 3
WAIT_LOG = re.compile(r"^Waiting (?P<seconds>[0-9.]+) s, until (?P<until>\S+), before retrying: HTTP 429")


@pytest.fixture(scope="module")
def limited_sync(organization, tmp_path_factory):
    with FakeAdminApi(organization, rate_limit=(LIMIT, WINDOW_SECONDS), max_buckets_per_page=10) as api:
        config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": organization.first_day.isoformat(),
                  "api_url": api.url,
                  "hourly_start_date": (organization.last_day - timedelta(days=HOURLY_DAYS - 1)).isoformat()}
        started = time.monotonic()
        run = run_connector("read", config, configured_catalog("messages_usage", "cost_report",
                                                               "messages_usage_hourly", sync_mode="full_refresh"))
        wall_seconds = time.monotonic() - started
        yield run, api.api_requests(), wall_seconds


def test_the_backfill_equals_the_ground_truth(limited_sync, organization) -> None:
    run, _, _ = limited_sync

    assert run.exit_code == 0, run.stderr
    days = organization.day_range()
    assert usage_by_key(run.records("messages_usage")) == expected_usage(organization, days)
    assert cost_by_key(run.records("cost_report")) == expected_cost(organization, days)
    assert usage_by_key(run.records("messages_usage_hourly")) == expected_usage_hourly(organization, days[-HOURLY_DAYS:])


def test_at_most_one_429_per_window_of_the_limit(limited_sync) -> None:
    _, requests, _ = limited_sync
    limited = [request for request in requests if request.status == 429]
    served = len(requests) - len(limited)

    assert served >= 3 * LIMIT  # enough requests that bursting hits the limit in each window
    # Each window's burst ends at its first 429, which is waited out to the reset; one more allows for a window
    # boundary that falls between the 429 and the reset's whole second.
    assert 1 <= len(limited) <= math.ceil(served / LIMIT) + 1
    assert {request.path for request in requests} == {USAGE_PATH, COST_PATH}


def test_each_wait_is_what_the_reset_asked_for(limited_sync) -> None:
    run, requests, _ = limited_sync
    waits = [WAIT_LOG.match(message["log"]["message"]) for message in run.of_type("LOG")]
    waits = [match for match in waits if match]
    limited = [request for request in requests if request.status == 429]

    assert len(waits) == len(limited)
    for wait, request in zip(waits, limited):
        asked = (request.reset_at - request.received_at).total_seconds()
        # The reset (a whole second on the stand-in), and a tenth of a second more, never much more.
        assert asked <= float(wait["seconds"]) <= asked + 1.5
        until = datetime.strptime(wait["until"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert until >= request.reset_at


def test_the_backfill_takes_about_the_least_time_the_limit_allows(limited_sync) -> None:
    run, requests, wall_seconds = limited_sync
    served = sum(1 for request in requests if request.status != 429)
    least = (math.ceil(served / LIMIT) - 1) * WINDOW_SECONDS
    # From the first request to the last; process start-up is not the limit's doing.
    spread = requests[-1].at - requests[0].at

    assert spread >= least - 0.5  # the stand-in held the limit: no faster than it allows
    # Each window: its N requests, a 429, and the wait to the reset (a whole second on the stand-in) plus the CDK's
    # second: at most W + 2 s a window.
    paced = (math.ceil(served / LIMIT) - 1) * (WINDOW_SECONDS + 2) + WINDOW_SECONDS + 2
    assert spread <= paced + 1
    assert wall_seconds < spread + 30
