"""The stand-in's organization holds the same data whatever day the suite runs on.

The session's organization ends yesterday, so its dates move with the clock; its rows must not. When they were
drawn from the date, the tests' facts moved with it: on 2026-11-25 the first day's cost report had no code
execution and a stand-in test failed. Here the organization is built under frozen clocks (year and month ends,
a leap day, either side of midnight) and compared with the dates taken out.
"""

from datetime import datetime, timezone

import freezegun
import pytest

from integration_tests.conftest import ORGANIZATION
from integration_tests.fake_admin_api import Directory, Organization

MOMENTS = ["2026-11-25T18:35:00Z", "2027-01-01T00:00:00Z", "2027-02-28T23:59:59Z", "2027-03-01T00:00:01Z",
           "2027-06-30T12:00:00Z", "2027-12-31T23:59:59Z", "2028-02-29T00:00:00Z", "2028-03-01T12:00:00Z"]


def undated_contents(moment: str):
    """Every usage row, cost row and Claude Code record of an organization built at `moment`, one restatement
    included, with each day replaced by its offset from the first day and each time by its time of day."""
    with freezegun.freeze_time(moment):
        organization = Organization(**ORGANIZATION)
    directory = Directory(organization)
    organization.restate(organization.last_day)  # late usage is drawn per day too
    contents = []
    for offset, day in enumerate(organization.day_range()):
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        contents.append((
            [row._replace(at=row.at - midnight) for row in organization.usage_rows(day)],
            [row._replace(day=offset) for row in organization.cost_rows(day)],
            [{**record, "date": offset} for record in directory.claude_code_records(day)],
        ))
    return organization.last_day, contents


@pytest.fixture(scope="module")
def reference():
    return undated_contents(MOMENTS[0])


@pytest.mark.parametrize("moment", MOMENTS[1:])
def test_the_organization_holds_the_same_rows_on_any_date(reference, moment) -> None:
    reference_last_day, reference_contents = reference
    last_day, contents = undated_contents(moment)

    assert last_day != reference_last_day  # the dates did move with the clock...
    assert contents == reference_contents  # ...and the rows did not
