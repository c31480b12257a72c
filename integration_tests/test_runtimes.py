"""The same manifest.yaml and components.py in every runtime Airbyte runs low-code connectors in, against the stand-in:
the Connector Builder's test read and the manifest-only runtime (`source-declarative-manifest`) give what the
`source-claude` command gives, money exact included."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any, Dict, List, Mapping

import pytest

from integration_tests.connector_builder import builder_test_reads, problems_logged, records_read
from integration_tests.connector_cli import RUNTIMES, configured_catalog, run_connector
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, FakeAdminApi, FaultPlan, parse_fault
from integration_tests.manifest_streams import ADMIN_KEY_STREAMS, PRIMARY_KEYS


def primary_key(stream: str, record: Mapping[str, Any]) -> tuple:
    return tuple(record[field] for field in PRIMARY_KEYS[stream])


def by_key(stream: str, records: List[Mapping[str, Any]]) -> Dict[tuple, Mapping[str, Any]]:
    """Records by primary key, without their null fields: the Builder's answer omits them (its serializer drops
    None values), which is how it shows a null."""
    keyed = {primary_key(stream, record): without_nulls(record) for record in records}
    assert len(keyed) == len(records), f"{stream}: two records with one key"
    return keyed


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: without_nulls(member) for name, member in value.items() if member is not None}
    return value


@pytest.fixture(scope="module")
def module_config(fake_api: FakeAdminApi, organization) -> Dict[str, Any]:
    return {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": (organization.first_day - timedelta(days=5)).isoformat(),
            "api_url": fake_api.url}


@pytest.fixture(scope="module")
def package_read(fake_api: FakeAdminApi, module_config):
    """One sync of every stream by the `source-claude` command: what the Builder's test reads must give."""
    fake_api.clear_log()
    run = run_connector("read", module_config, configured_catalog(*ADMIN_KEY_STREAMS))
    assert run.exit_code == 0, run.errors()
    return run


# That the manifest-only runtime syncs every stream as the package does (the same records, states and errors, stream
# by stream, in the same order) is test_one_thread_read.py's first test: the package reads on one thread there.


FAILURES = {
    # A revoked key: HTTP 401 on the first request.
    "a rejected key": ({"admin_api_key": "sk-ant-admin01-revoked"}, []),
    # Every answer a 429 whose reset is past the 15 minutes the connector waits: it gives up at once.
    "a server that keeps refusing": ({}, ["429:reset=1000@1-"]),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_the_manifest_only_runtime_fails_as_the_package_does(failure, api, config) -> None:
    """The stream's error (its sentence and failure type) and the exit code are the package's; check says the same
    sentence, which the CDK's own check wraps in the repr of another."""
    overrides, faults = FAILURES[failure]
    bad = {**config, **overrides}
    runs = {}
    for runtime in RUNTIMES:
        api.faults = FaultPlan([parse_fault(fault) for fault in faults])
        runs[runtime] = (run_connector("read", bad, configured_catalog("messages_usage"), runtime=runtime),
                         run_connector("check", bad, runtime=runtime))

    (package_read, package_check), (other_read, other_check) = runs["package"], runs["manifest-only"]
    assert package_read.exit_code == other_read.exit_code == 1
    stream_error = package_read.errors()[0]
    assert (without_times(other_read.errors()[0]["message"]), other_read.errors()[0]["failure_type"]) == \
        (without_times(stream_error["message"]), stream_error["failure_type"])
    assert package_check.connection_status()["status"] == other_check.connection_status()["status"] == "FAILED"
    assert without_times(package_check.connection_status()["message"]) in \
        without_times(other_check.connection_status()["message"])
    assert stream_error["message"].split(" (HTTP")[0] in package_check.connection_status()["message"]


def without_times(message: str) -> str:
    """The sentence without the times it names (a rate limit's reset is a few seconds later in the second run)."""
    return re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "<time>", message)


def test_the_builder_test_read_gives_every_stream_as_a_sync_does(fake_api, module_config, package_read,
                                                                 tmp_path) -> None:
    """Given the manifest and components.py injected as the Connector Builder injects them, When each stream is test
    read, Then it gives the records the CLI's sync gives, money exact: amount the API's decimal text, amount_usd and
    estimated_cost_usd exactly a hundredth of their cents.

    REQUEST_CACHE_PATH names a directory that no longer exists, as in a Builder server whose process outlived the
    run that set it: the Claude Code streams, which share pages there when the entrypoint made it, read their own."""
    gone = tmp_path / "ended-run"
    answers = builder_test_reads(module_config, list(ADMIN_KEY_STREAMS), env={"REQUEST_CACHE_PATH": str(gone)})
    for stream in ADMIN_KEY_STREAMS:
        answer = answers[stream]
        records = records_read(answer)

        assert problems_logged(answer) == [], stream
        assert records, f"{stream}: the test read gave no record"
        assert by_key(stream, records) == by_key(stream, package_read.records(stream)), stream
        for record in records:
            if "amount_usd" in record:
                assert isinstance(record["amount"], str)
                assert record["amount_usd"] * 100 == Decimal(record["amount"])
            if record.get("estimated_cost_usd") is not None:
                assert record["estimated_cost_usd"] * 100 == record["estimated_cost_cents"]
    assert not gone.exists()
