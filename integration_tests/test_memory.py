"""Memory stays flat as the synced range grows: records stream through one 31-day window at a time.

Two reads of the same organization through the CLI, two months and two years (twelve times the windows), must
peak within a small constant of each other. Each peak is the process's own VmHWM (see ProcessPeaks).
"""

from datetime import timedelta

import pytest

from integration_tests.connector_cli import configured_catalog, run_connector
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, FakeAdminApi, Organization

# What two years may add over two months: interpreter noise, not a per-window or per-record cost. A 31-day
# response here is 4 MiB of JSON (9,400 rows) and about three times that once parsed, so keeping one per window
# would add well over 100 MiB across the 24 windows.
ALLOWED_GROWTH_MIB = 25


@pytest.fixture(scope="module")
def two_years():
    organization = Organization(seed=3, days=730, rows_per_day=300)
    with FakeAdminApi(organization) as api:
        yield organization, api


def test_peak_memory_of_a_two_year_read_is_that_of_a_two_month_read(two_years) -> None:
    organization, api = two_years
    catalog = configured_catalog("messages_usage", sync_mode="full_refresh")
    peaks = {}
    for label, days in (("two months", 62), ("two years", 730)):
        start = organization.last_day - timedelta(days=days - 1)
        config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": start.isoformat(), "api_url": api.url}
        run = run_connector("read", config, catalog, fresh_interpreter=True)  # its own peak, not a launcher's
        assert run.exit_code == 0, run.errors()
        assert len({record["starting_at"] for record in run.records()}) == days
        peaks[label] = run.peak_mib

    print(f"peak memory: {peaks}")
    assert peaks["two years"] <= peaks["two months"] + ALLOWED_GROWTH_MIB, peaks
