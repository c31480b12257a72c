"""What `make upstream` assembles for the pull request to airbytehq/airbyte, run as Airbyte's registry runs it: the
connector folder in the manifest-only runtime its metadata names, reading every stream from the stand-in."""

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from integration_tests.connector_cli import configured_catalog, run_connector
from integration_tests.fake_admin_api import DEFAULT_ANALYTICS_KEY
from integration_tests.ground_truth import (analytics_days, analytics_usage_totals, claude_code_by_key, cost_by_key,
                                            expected_analytics_usage, expected_claude_code, expected_cost,
                                            expected_usage, on_one_day, usage_by_key)
from integration_tests.manifest_streams import ADMIN_KEY_STREAMS, EVERY_STREAM
from integration_tests.test_beyond_reports import as_emitted, days_through
from integration_tests.test_engagement_end_to_end import ENGAGEMENT, by_key, days_from, truth

ROOT = Path(__file__).resolve().parent.parent
CONNECTOR = Path("airbyte-integrations", "connectors", "source-claude")
DOCS = Path("docs", "integrations", "sources")
# Pull request file -> its source in this repository, byte for byte.
COPIES = {
    CONNECTOR / "manifest.yaml": "source_claude/manifest.yaml",
    CONNECTOR / "components.py": "source_claude/components.py",
    CONNECTOR / "metadata.yaml": "metadata.yaml",
    CONNECTOR / "icon.svg": "icon.svg",
    DOCS / "claude.md": "docs/claude.md",
    DOCS / "claude-migrations.md": "docs/claude-migrations.md",
    CONNECTOR / "unit_tests" / "builders.py": "unit_tests/builders.py",
    CONNECTOR / "unit_tests" / "conftest.py": "unit_tests/conftest.py",
    # What only the pull request has: the connector's README, and what its unit tests import and run with.
    CONNECTOR / "README.md": "tools/upstream/README.md",
    CONNECTOR / "unit_tests" / "__init__.py": "tools/upstream/unit_tests/__init__.py",
    CONNECTOR / "unit_tests" / "pyproject.toml": "tools/upstream/unit_tests/pyproject.toml",
}
ENGAGEMENT_DAYS = 4


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> Path:
    """The pull request's files, assembled by the script `make upstream` runs, outside this repository (so no
    conftest.py of ours is above its unit tests)."""
    build = tmp_path_factory.mktemp("upstream")
    subprocess.run([sys.executable, str(ROOT / "tools" / "upstream.py"), str(build)], check=True, capture_output=True)
    return build


def test_the_pull_request_holds_the_connector_folder_and_both_docs_pages_copied_from_their_sources(upstream) -> None:
    for copy, source in COPIES.items():
        assert (upstream / copy).read_bytes() == (ROOT / source).read_bytes(), copy
    unit_tests = sorted(path.name for path in (upstream / CONNECTOR / "unit_tests").glob("test_*.py"))
    assert unit_tests
    for name in unit_tests:
        assert (upstream / CONNECTOR / "unit_tests" / name).read_bytes() == (ROOT / "unit_tests" / name).read_bytes()
    # The one edit: the acceptance tests find manifest.yaml at the folder's root.
    acceptance = (upstream / CONNECTOR / "acceptance-test-config.yml").read_text()
    assert acceptance == (ROOT / "acceptance-test-config.yml").read_text().replace(
        "spec_path: source_claude/manifest.yaml", "spec_path: manifest.yaml")
    named = yaml.safe_load(acceptance)["acceptance_tests"]
    for section in named.values():
        for test in section["tests"]:
            for path in (test.get("spec_path"), test.get("configured_catalog_path"),
                         (test.get("future_state") or {}).get("future_state_path")):
                assert path is None or (upstream / CONNECTOR / path).is_file(), path


def test_its_metadata_names_the_manifest_only_runtime_and_the_folder_has_no_python_package(upstream) -> None:
    metadata = yaml.safe_load((upstream / CONNECTOR / "metadata.yaml").read_text())["data"]
    assert "language:manifest-only" in metadata["tags"]
    assert metadata["connectorBuildOptions"]["baseImage"].startswith("docker.io/airbyte/source-declarative-manifest:")
    assert not (upstream / CONNECTOR / "source_claude").exists()
    assert not (upstream / CONNECTOR / "pyproject.toml").exists()


def test_the_folder_reads_every_admin_key_stream_as_the_stand_in_has_it(upstream, api, config, organization,
                                                                        start_date) -> None:
    """Given the folder's manifest.yaml and components.py in source-declarative-manifest, When an Admin key reads every
    stream it reads, Then each gives records, and those with a ground truth give exactly it."""
    def read():
        api.clear_log()
        return run_connector("read", config, configured_catalog(*ADMIN_KEY_STREAMS, sync_mode="full_refresh"),
                             runtime="manifest-only", folder=upstream / CONNECTOR)
    today, run = on_one_day(read)

    assert run.exit_code == 0, run.errors()
    assert run.errors() == []
    for stream in ADMIN_KEY_STREAMS:
        assert run.records(stream), f"{stream}: no record"
    days = organization.day_range()
    assert usage_by_key(run.records("messages_usage")) == expected_usage(organization, days)
    assert cost_by_key(run.records("cost_report")) == expected_cost(organization, days)
    assert claude_code_by_key(run.records("claude_code_usage"), run.records("claude_code_model_usage")) == \
        expected_claude_code(api.directory, map(date.fromisoformat, days_through(start_date, today)))
    assert analytics_usage_totals(run.records("usage_analytics")) == \
        expected_analytics_usage(organization, analytics_days(organization, start_date, today))
    directory = api.directory
    assert run.records("organization") == [directory.me]
    for stream, objects in (("workspaces", directory.workspaces), ("users", directory.users),
                            ("invites", directory.invites)):
        assert run.records(stream) == as_emitted(objects), stream
    assert len(run.records("api_keys")) == len(directory.api_keys)
    assert len(run.records("workspace_members")) == sum(map(len, directory.members.values()))


def test_the_folder_reads_every_engagement_stream_with_an_analytics_key(upstream, api) -> None:
    """The streams only a Claude Enterprise Analytics key reads, each row of each day as the stand-in has it."""
    engagement = [stream for stream in EVERY_STREAM if stream not in ADMIN_KEY_STREAMS]
    first_day = api.engagement.latest_day("users") - timedelta(days=ENGAGEMENT_DAYS - 1)
    config = {"admin_api_key": DEFAULT_ANALYTICS_KEY, "start_date": first_day.isoformat(), "api_url": api.url}

    today, run = on_one_day(lambda: run_connector("read", config, configured_catalog(*engagement),
                                                  runtime="manifest-only", folder=upstream / CONNECTOR))

    assert run.exit_code == 0, run.errors()
    assert engagement
    for stream in engagement:
        records = run.records(stream)
        last_day = min(api.engagement.latest_day(ENGAGEMENT[stream][0]), today - timedelta(days=1))
        expected = [row for day in days_from(first_day, last_day) for row in truth(api, stream, day)]
        assert records and len(records) == len(expected), stream
        assert by_key(stream, records) == by_key(stream, expected), stream


def test_its_unit_tests_run_on_the_folder_without_the_python_package(upstream) -> None:
    """As Airbyte's CI runs them, from unit_tests/: every one collected, and the component tests passing, on the
    folder's components.py (not this repository's package, which this virtualenv could import too)."""
    unit_tests = upstream / CONNECTOR / "unit_tests"
    script = (
        "import sys, pytest\n"
        "collected = pytest.main(['-q', '-p', 'no:cacheprovider', '--collect-only'])\n"
        "ran = pytest.main(['-q', '-p', 'no:cacheprovider', 'test_components.py'])\n"
        "print('components from', sys.modules['source_claude.components'].__file__)\n"
        "sys.exit(collected or ran)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=unit_tests, capture_output=True, text=True)

    assert run.returncode == 0, run.stdout[-3000:]
    assert f"components from {upstream / CONNECTOR / 'components.py'}" in run.stdout
