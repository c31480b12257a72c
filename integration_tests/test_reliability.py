"""Under faults and bad input, the connector delivers exactly the data the API holds, or stops with an actionable
error and a state from which the next sync completes the data with no gap and no double; never a row twice.

Every scenario runs the installed `source-claude` CLI (with --debug) against the stand-in, which here caps pages
at 10 buckets so that 31-day windows take four pages and faults can land in the middle of a window. With one
worker the requests come in a fixed order: messages_usage 1-10 (windows start at 1, 5, 9), cost_report 11-20.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pytest
import yaml

from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.connector_cli import ConnectorRun, configured_catalog, deduplicated, run_connector
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, FakeAdminApi, FaultPlan, parse_fault
from integration_tests.ground_truth import cost_by_key, day_start, expected_cost, expected_usage, usage_by_key
from source_claude.source import MANIFEST

BOTH = ("messages_usage", "cost_report")


@dataclass
class Scenario:
    faults: List[str]
    # Either the sync succeeds with exactly the ground truth (cause None), or it stops with this cause in its message.
    cause: Optional[str] = None
    failure_type: Optional[str] = None
    extra: Dict[str, str] = field(default_factory=dict)
    # How many requests the stand-in gets, when the fault must stop the sync at once.
    requests: Optional[int] = None


SCENARIOS = {
    "429 with retry-after": Scenario(["429:retry-after=1@3"]),
    "429 without retry-after": Scenario(["429@3"]),
    "each of 500, 502, 503, 504, 529 once": Scenario(["500@2", "502@7", "503@12", "504@16", "529@19"]),
    "a burst of three 503s on one request": Scenario(["503@6-8"]),
    "a connection dropped mid-body": Scenario(["drop@4"]),
    "truncated JSON in a 200": Scenario(["truncate@13"]),
    "a 400 in the middle of a window": Scenario(["400@7"], "HTTP 400", "system_error"),
    # The first 401 stops both streams: cost_report, not yet started, sends nothing.
    "the key revoked halfway through": Scenario(["401@9-"], "rejected the Admin API key (HTTP 401", "config_error",
                                                requests=9),
    "a page token the server rejects": Scenario(["bad-page-token@12"], "Invalid page token", "system_error"),
    # A reset past the 15 minutes the connector waits for one request: it stops at once, with its sentence.
    "rate limited beyond the wait budget": Scenario(["429:reset=1000@15-"], "kept rate limiting", "transient_error"),
    # 429s that name no reset are retried five times, like any other failure.
    "rate limited without a reset on every request": Scenario(["429:retry-after=1,reset=none@15-"], "kept rate limiting",
                                                              "transient_error"),
    # Answers no documentation allows (page_faults.py): a page token the server ignores (so each page names the
    # token it was asked with), a bucket without results, a bucket before the window, amounts as JSON numbers,
    # and a result row that is not an object.
    "a server that ignores the page token": Scenario(["repeat-page-token@6-"], "the same page token it was asked with",
                                                     "system_error"),
    "a bucket without results, once": Scenario(["bad-bucket:shape=no-results@3"]),
    "a bucket outside the window asked for": Scenario(["outside-window@2", "outside-window@12"]),
    "cost amounts as JSON numbers": Scenario(["numeric-amount@11-20"]),
    "a result row that is not an object": Scenario(["bad-row@3"], "a record this connector cannot read", "system_error"),
}


@pytest.fixture(scope="module")
def paging_api(organization):
    with FakeAdminApi(organization, max_buckets_per_page=10) as api:
        yield api


@pytest.fixture
def matrix_config(paging_api, start_date):
    paging_api.clear_log()
    paging_api.faults = FaultPlan()
    return {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": start_date.isoformat(), "api_url": paging_api.url}


def full_read(config, state=None, debug=True) -> ConnectorRun:
    # Each read takes seconds; two minutes means the connector is looping.
    return run_connector("read", config, configured_catalog(*BOTH), state, timeout=120, debug=debug)


def assert_exact(run_records: Dict[str, list], organization) -> None:
    days = organization.day_range()
    assert usage_by_key(run_records["messages_usage"]) == expected_usage(organization, days)
    assert cost_by_key(run_records["cost_report"]) == expected_cost(organization, days)


def by_stream(run: ConnectorRun) -> Dict[str, list]:
    return {stream: run.records(stream) for stream in BOTH}


def assert_saved_state_covers_only_delivered_rows(run: ConnectorRun, organization) -> None:
    """Every row at or before a stream's last saved state was delivered, with its final values."""
    truth = {"messages_usage": (expected_usage, usage_by_key), "cost_report": (expected_cost, cost_by_key)}
    for state in run.final_states():
        stream = state["stream"]["stream_descriptor"]["name"]
        saved = state["stream"]["stream_state"]["starting_at"]
        expected_of, keyed = truth[stream]
        expected = expected_of(organization, [d for d in organization.day_range() if day_start(d) <= saved])
        delivered = keyed(run.records(stream))
        assert {key: delivered.get(key) for key in expected} == expected, f"{stream} state {saved} is ahead of its rows"


def assert_key_never_shown(run: ConnectorRun) -> None:
    assert DEFAULT_ADMIN_KEY not in run.stdout and DEFAULT_ADMIN_KEY not in run.stderr


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fault_scenario(name, paging_api, matrix_config, organization) -> None:
    scenario = SCENARIOS[name]
    paging_api.faults = FaultPlan([parse_fault(spec) for spec in scenario.faults])

    first = full_read(matrix_config)

    assert_key_never_shown(first)
    assert "Traceback" not in first.stderr
    for stream in BOTH:  # whatever the server does, no row is emitted twice in one sync
        keys = [record["row_key"] for record in first.records(stream)]
        assert len(keys) == len(set(keys)), f"{stream} emitted a row twice"
    # ...and every amount is exact decimal text, as the schema says, whatever JSON type the server sent it as.
    assert all(isinstance(record["amount"], str) for record in first.records("cost_report"))
    injected = [r.fault for r in paging_api.api_requests() if r.fault]
    assert injected, "the fault was never injected"
    assert scenario.requests is None or len(paging_api.api_requests()) == scenario.requests
    if scenario.cause is None:
        assert first.exit_code == 0, first.errors()
        assert_exact(by_stream(first), organization)
        return

    # It stops, says why in the stream's error (and, unless the config is to blame, what the next sync does), and
    # saved state only for windows whose records it delivered in full.
    assert first.exit_code != 0
    stream_error = first.errors()[0]
    assert scenario.cause in stream_error["message"], stream_error["message"]
    assert stream_error["failure_type"] == scenario.failure_type
    assert ("resumes" in stream_error["message"]) == (scenario.failure_type != "config_error"), stream_error["message"]
    assert_saved_state_covers_only_delivered_rows(first, organization)

    # The next sync, from that state and with the fault gone, completes the data set: no gap, no double.
    paging_api.faults = FaultPlan()
    second = full_read(matrix_config, state=first.final_states())
    assert second.exit_code == 0, second.errors()
    assert_key_never_shown(second)
    assert_exact({stream: list(deduplicated(first.records(stream) + second.records(stream)).values())
                  for stream in BOTH}, organization)


def test_a_response_slower_than_the_client_timeout_is_retried(organization, start_date) -> None:
    """The read timeout is a static manifest value (120 s), so this one scenario runs in-process with the packaged
    manifest's timeout lowered to 1 s, against a stand-in whose second response takes 3 s."""
    manifest = yaml.safe_load(open(MANIFEST))
    manifest["definitions"]["base_requester"]["read_timeout_in_seconds"] = 1
    with FakeAdminApi(organization, faults=FaultPlan([parse_fault("slow:seconds=3@2")])) as api:
        config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": start_date.isoformat(), "api_url": api.url}
        catalog = configured_catalog(*BOTH, sync_mode="full_refresh")
        from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

        configured = ConfiguredAirbyteCatalogSerializer.load(catalog)
        output = read(ConcurrentDeclarativeSource(source_config=manifest, config=config, catalog=configured),
                      config, configured)
        requests = api.api_requests()

    assert not output.errors
    assert [r.fault for r in requests].count("slow") == 1
    assert len(requests) == 6 + 1  # the six windows, plus the one retry of the request that timed out
    assert_exact({stream: [m.record.data for m in output.records if m.record.stream == stream] for stream in BOTH},
                 organization)
