"""The installed `source-claude` command against the local stand-in, compared with ground truth.

Every emitted record is checked against sums of the stand-in's atomic rows (integration_tests/ground_truth.py),
which shares no code with the connector's extractor or with the stand-in's report aggregation.
"""

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from integration_tests.connector_cli import configured_catalog, deduplicated, run_connector
from integration_tests.fake_admin_api import COST_PATH, USAGE_PATH, parse_fault
from integration_tests.ground_truth import (
    cost_by_key,
    day_start,
    expected_cost,
    expected_usage,
    on_one_day,
    tokens_per_day_and_model,
    usage_by_key,
)

BOTH = ("messages_usage", "cost_report")


def full_refresh(config):
    return run_connector("read", config, configured_catalog(*BOTH, sync_mode="full_refresh"))


def test_spec_prints_the_configuration_contract() -> None:
    run = run_connector("spec")

    assert run.exit_code == 0
    [spec] = run.of_type("SPEC")
    properties = spec["spec"]["connectionSpecification"]["properties"]
    # check_last_whole_day_only is the check's own (check.config_overrides), hidden from users.
    assert [name for name, field in properties.items() if not field.get("airbyte_hidden")] == [
        "admin_api_key", "start_date", "end_date", "lookback_window_days", "claude_code_lookback_window_days",
        "engagement_lookback_window_days", "max_requests_per_minute", "api_url", "hourly_start_date", "hourly_lookback_window_hours",
        "analytics_lookback_window_days", "analytics_group_by"]


def test_check_succeeds_with_one_request_over_the_last_day(api, config) -> None:
    def check():
        api.clear_log()
        return run_connector("check", config)

    # The last whole day by the connector's clock, which is the stand-in's last day only until midnight UTC.
    today, run = on_one_day(check)

    assert (run.exit_code, run.connection_status()["status"]) == (0, "SUCCEEDED")
    [probe] = api.api_requests()
    assert probe.path == USAGE_PATH
    assert probe.query["starting_at"] == [day_start(today - timedelta(days=1))]


def test_check_on_day_one_tests_the_key_and_says_there_is_nothing_to_read_yet(api, config) -> None:
    """Given start_date today, no whole UTC day can be read yet: check still asks for yesterday, so a revoked key
    fails, and a working one succeeds saying when the first day can be read."""
    today = datetime.now(timezone.utc).date()
    day_one = {**config, "start_date": today.isoformat()}

    works = run_connector("check", day_one)
    revoked = run_connector("check", {**day_one, "admin_api_key": "sk-ant-admin01-revoked"})

    assert (works.exit_code, works.connection_status()["status"]) == (0, "SUCCEEDED")
    assert "there is nothing to read yet" in works.connection_status()["message"]
    assert [probe.query["starting_at"] for probe in api.api_requests()] == [[day_start(today - timedelta(days=1))]] * 2
    assert revoked.connection_status()["status"] == "FAILED"
    assert revoked.connection_status()["message"].startswith("Anthropic rejected the Admin API key (HTTP 401")


def test_check_fails_in_one_sentence_for_a_key_the_api_rejects(api, config) -> None:
    run = run_connector("check", {**config, "admin_api_key": "sk-ant-admin01-revoked"})

    status = run.connection_status()
    assert (run.exit_code, status["status"]) == (0, "FAILED")
    assert status["message"].startswith("Anthropic rejected the Admin API key (HTTP 401")


def test_check_fails_in_one_sentence_for_an_unreachable_api_url(config) -> None:
    run = run_connector("check", {**config, "api_url": "http://127.0.0.1:9"})

    status = run.connection_status()
    assert status["status"] == "FAILED"
    assert status["message"].startswith("Could not connect to http://127.0.0.1:9")


def test_check_fails_in_one_sentence_for_a_regular_api_key(api, config) -> None:
    """A regular key has the prefix of a Claude Enterprise key (sk-ant-api...): the API, asked once on each of its
    three APIs, says it reads none."""
    run = run_connector("check", {**config, "admin_api_key": "sk-ant-api03-regular"})

    status = run.connection_status()
    assert (run.exit_code, status["status"]) == (0, "FAILED")
    assert status["message"].startswith("This key can read none of the streams: Anthropic refused it on the Admin "
                                        "API and on both Analytics APIs")
    assert len(api.api_requests()) == 3


ROOT = Path(__file__).resolve().parent.parent


def streams_table(document: str) -> str:
    """The rows of a document's table of streams: between its Streams heading and the next heading."""
    return re.split(r"^#+ ", re.split(r"^## (?:Supported )?Streams\n", (ROOT / document).read_text(), flags=re.M)[1],
                    flags=re.M)[0]


# Stream -> (primary key, cursor or None for full refresh only): the contract users' warehouses depend on, as the docs
# page's Supported Streams table states it.
CONTRACT = {
    name: ([[field] for field in re.findall(r"`(\w+)`", key)], [cursor.strip("` ")] if cursor.strip() else None)
    for name, key, cursor in re.findall(r"^\| `(\w+)` \|[^|]*\|([^|]*)\|([^|]*)\|[^|]*\|$",
                                        streams_table("docs/claude.md"), re.M)
}


def test_discover_declares_every_stream_with_its_key_cursor_and_modes(config) -> None:
    run = run_connector("discover", config)

    [catalog] = run.of_type("CATALOG")
    streams = {stream["name"]: stream for stream in catalog["catalog"]["streams"]}
    assert list(streams) == list(CONTRACT)
    assert re.findall(r"^\| `(\w+)` \|", streams_table("README.md"), re.M) == list(CONTRACT)
    for name, (primary_key, cursor) in CONTRACT.items():
        stream = streams[name]
        assert stream["source_defined_primary_key"] == primary_key, name
        if cursor:
            assert (stream["default_cursor_field"], set(stream["supported_sync_modes"])) == (
                cursor, {"full_refresh", "incremental"}), name
        else:
            assert stream["supported_sync_modes"] == ["full_refresh"], name


def test_full_refresh_emits_exactly_the_ground_truth(api, config, organization) -> None:
    run = full_refresh(config)

    assert run.exit_code == 0, run.stderr
    days = organization.day_range()
    usage, cost = run.records("messages_usage"), run.records("cost_report")
    # Every row, every value.
    assert usage_by_key(usage) == expected_usage(organization, days)
    assert cost_by_key(cost) == expected_cost(organization, days)
    # Token sums per day and model, and cost to the cent.
    assert tokens_per_day_and_model(usage_by_key(usage)) == tokens_per_day_and_model(expected_usage(organization, days))
    assert sum(Decimal(r["amount"]) for r in cost) == sum(v["amount"] for v in expected_cost(organization, days).values())
    # amount_usd is the exact decimal quotient (numbers parsed as Decimal, not float): the stand-in's cents, like the
    # API's, have at most 7 decimals, so none is rounded at 9 USD decimals.
    assert all(r["amount_usd"] * 100 == Decimal(r["amount"]) for r in cost)
    # 80 days (75 of data after 5 empty ones) are three 31-day windows: three requests per stream, no more.
    assert len(api.api_requests(USAGE_PATH)) == 3
    assert len(api.api_requests(COST_PATH)) == 3


def test_consecutive_incremental_syncs_with_lookback_equal_one_full_refresh(api, config, organization) -> None:
    config = {**config, "lookback_window_days": 3}
    catalog = configured_catalog(*BOTH)
    first, second = organization.first_day + timedelta(days=20), organization.first_day + timedelta(days=50)

    state, emitted = None, []
    for end_date in (first.isoformat(), second.isoformat(), None):
        sync_config = {**config, "end_date": end_date} if end_date else config
        api.clear_log()
        run = run_connector("read", sync_config, catalog, state)
        assert run.exit_code == 0, run.stderr
        emitted += run.records()
        if state is not None:
            # Each later sync starts lookback_window_days before the state the previous one handed over.
            for handed in state:
                stream = handed["stream"]["stream_descriptor"]["name"]
                resume_from = datetime.strptime(handed["stream"]["stream_state"]["starting_at"], "%Y-%m-%dT%H:%M:%SZ")
                path = USAGE_PATH if stream == "messages_usage" else COST_PATH
                earliest = min(request.query["starting_at"][0] for request in api.api_requests(path))
                assert earliest == f"{resume_from - timedelta(days=3):%Y-%m-%dT%H:%M:%SZ}"
        state = run.final_states()

    reference = full_refresh(config)
    assert deduplicated(emitted) == deduplicated(reference.records())
    assert len(deduplicated(emitted)) == len(reference.records())


def test_rate_limits_and_server_errors_do_not_change_the_records(api, config, organization) -> None:
    faults = ["429:retry-after=1@1", "429@3", "503@5", "529@6", "500@8", "502@10", "504@11"]
    api.faults.faults = [parse_fault(spec) for spec in faults]

    run = full_refresh(config)

    assert run.exit_code == 0, run.stderr
    statuses = [request.status for request in api.api_requests()]
    assert sorted(status for status in statuses if status != 200) == [429, 429, 500, 502, 503, 504, 529]
    days = organization.day_range()
    assert usage_by_key(run.records("messages_usage")) == expected_usage(organization, days)
    assert cost_by_key(run.records("cost_report")) == expected_cost(organization, days)
