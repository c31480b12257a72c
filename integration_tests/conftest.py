"""One stand-in Admin API for the whole session, and the config files that point at it."""

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, FakeAdminApi, FaultPlan, Organization

SECRETS = Path(__file__).resolve().parent.parent / "secrets"
# 75 days, so a full refresh spans three 31-day windows; a start five days before the data adds empty buckets.
ORGANIZATION = dict(seed=11, days=75, rows_per_day=40)
LEAD_IN_DAYS = 5


@pytest.fixture(scope="session")
def organization() -> Organization:
    return Organization(**ORGANIZATION)


@pytest.fixture(scope="session")
def fake_api(organization: Organization) -> Iterator[FakeAdminApi]:
    with FakeAdminApi(organization) as api:
        yield api


@pytest.fixture(scope="session")
def standard_suite_configs(fake_api: FakeAdminApi) -> None:
    """Only the standard suite writes secrets/: with several test workers, each has its own stand-in."""
    write_standard_suite_configs(fake_api)


@pytest.fixture
def api(fake_api: FakeAdminApi) -> Iterator[FakeAdminApi]:
    """The session's stand-in with a fresh request log (ordinals start at 1) and no faults."""
    fake_api.clear_log()
    fake_api.faults = FaultPlan()
    yield fake_api
    fake_api.faults = FaultPlan()


@pytest.fixture
def start_date(organization: Organization) -> date:
    return organization.first_day - timedelta(days=LEAD_IN_DAYS)


@pytest.fixture
def config(api: FakeAdminApi, start_date: date) -> Dict[str, Any]:
    return {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": start_date.isoformat(), "api_url": api.url}


def write_standard_suite_configs(api: FakeAdminApi) -> None:
    """acceptance-test-config.yml reads secrets/*.json, which only exist while a stand-in runs."""
    SECRETS.mkdir(exist_ok=True)
    # Twenty days counted back from the stand-in's last day, not from the machine's local date: basic_read allows
    # no empty stream, so the range is set by where the data is.
    start_date = api.organization.last_day - timedelta(days=19)
    valid = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": start_date.isoformat(), "api_url": api.url}
    (SECRETS / "config.json").write_text(json.dumps(valid, indent=2))
    (SECRETS / "invalid_config.json").write_text(json.dumps({**valid, "admin_api_key": "sk-ant-admin01-revoked"}))
