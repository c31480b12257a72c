"""Property: however the timeline is split into consecutive incremental syncs, whatever lookback each uses, and
however the API restates recent days in between, the deduplicated union of the syncs equals a fresh full refresh
of the final data.

"Recent" is what the lookback promises to re-read: a day on or after the newest saved state minus the next
sync's lookback. Restatements follow the real reports: late usage adds tokens to a day's groups, or new groups;
it never removes one (Append + Deduped cannot delete a row the API stops returning; the docs say so).

Syncs run in-process (the CLI costs a second of start-up each) against the stand-in over real HTTP.
"""

from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.connector_cli import configured_catalog, deduplicated
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, FakeAdminApi, Organization
from integration_tests.ground_truth import expected_usage, usage_by_key
from integration_tests.test_hourly_usage import hours_by_day
from source_claude import SourceClaude

DAYS = 40
STREAMS = ("messages_usage", "cost_report")
HOURLY = "messages_usage_hourly"


def sync(api: FakeAdminApi, start: date, end: Optional[date], lookback: int,
         state: Optional[List[AirbyteStateMessage]], sync_mode: str = "incremental",
         streams: Sequence[str] = STREAMS, **settings: Any):
    config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": start.isoformat(), "api_url": api.url,
              "lookback_window_days": lookback, **({"end_date": end.isoformat()} if end else {}), **settings}
    catalog = ConfiguredAirbyteCatalogSerializer.load(configured_catalog(*streams, sync_mode=sync_mode))
    output = read(SourceClaude(catalog=catalog, config=config, state=state), config, catalog, state)
    assert not output.errors, output.errors[0].trace.error.message
    latest: Dict[str, AirbyteStateMessage] = {}
    for message in output.state_messages:
        latest[message.state.stream.stream_descriptor.name] = message.state
    return [(m.record.stream, m.record.data) for m in output.records], list(latest.values())


def newest_saved_day(state: List[AirbyteStateMessage]) -> date:
    return max(datetime.strptime(s.stream.stream_state.starting_at, "%Y-%m-%dT%H:%M:%SZ").date() for s in state)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_consecutive_syncs_with_lookback_and_restatements_equal_a_full_refresh(data) -> None:
    organization = Organization(seed=data.draw(st.integers(0, 10_000), label="seed"), days=DAYS, rows_per_day=6)
    start = organization.first_day + timedelta(days=data.draw(st.integers(-4, DAYS - 2), label="start offset"))
    cuts = data.draw(st.lists(st.integers(1, DAYS + 1), max_size=3, unique=True), label="sync ends (days after start)")
    ends = [start + timedelta(days=cut) for cut in sorted(cuts) if start + timedelta(days=cut) <= organization.last_day]

    emitted, state = [], None
    with FakeAdminApi(organization) as api:
        for end in ends + [None]:
            lookback = data.draw(st.integers(0, 7), label="lookback")
            if state:
                # Restate days the next sync's lookback will re-read: late usage arriving in between syncs.
                recent_from = max(newest_saved_day(state) - timedelta(days=lookback), start, organization.first_day)
                recent = [recent_from + timedelta(days=n) for n in range((organization.last_day - recent_from).days + 1)]
                for day in data.draw(st.lists(st.sampled_from(recent), max_size=3, unique=True), label="restated"):
                    organization.restate(day)
            records, state = sync(api, start, end, lookback, state)
            emitted += records
        full_refresh, _ = sync(api, start, None, 3, None, sync_mode="full_refresh")

    for stream in STREAMS:
        union = deduplicated([record for name, record in emitted if name == stream])
        fresh = deduplicated([record for name, record in full_refresh if name == stream])
        assert union == fresh, f"{stream}: {len(set(union) ^ set(fresh))} keys differ"


@pytest.mark.parametrize("lookback, hourly_settings", [
    (3, {}),  # the defaults
    (1, {}),  # the hourly lookback follows the daily one
])
def test_after_restatements_of_every_day_messages_usage_re_reads_the_hours_still_sum_to_the_days(
        lookback, hourly_settings) -> None:
    """Given both usage streams synced together three times, with every day the daily stream re-reads (the saved day
    and the lookback days before it) restated before each later sync, Then the hourly records summed per day equal the
    daily records, and both equal the restated data: the hourly stream re-read every day the daily one did, at
    whatever hour the syncs run."""
    organization = Organization(seed=20, days=12, rows_per_day=6)
    start = organization.first_day
    emitted, state = [], None
    with FakeAdminApi(organization) as api:
        for _ in range(3):
            if state:
                # The daily stream's saved day is the last whole day; its lookback re-reads `lookback` days before.
                for offset in range(lookback + 1):
                    organization.restate(organization.last_day - timedelta(days=offset))
            records, state = sync(api, start, None, lookback, state, streams=("messages_usage", HOURLY),
                                  **hourly_settings)
            emitted += records

    daily = usage_by_key(deduplicated([record for name, record in emitted if name == "messages_usage"]).values())
    hourly = usage_by_key(deduplicated([record for name, record in emitted if name == HOURLY]).values())
    assert hours_by_day(hourly) == daily == expected_usage(organization, organization.day_range())
