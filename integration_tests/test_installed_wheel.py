"""What the Docker image does, without a Docker engine: build the wheel, install it alone into a clean virtualenv,
and run spec, check and read from that install only (outside the checkout, so nothing is imported from it)."""

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from integration_tests.connector_cli import configured_catalog
from integration_tests.ground_truth import expected_usage, usage_by_key

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = work.glob("airbyte_source_claude-*.whl")
    environment = work / "venv"
    venv.create(environment, with_pip=True)
    # --no-compile, as the Makefile installs: byte-compiling every dependency was a third of the install.
    subprocess.run([str(environment / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile",
                    "--disable-pip-version-check", str(wheel)], check=True, capture_output=True)
    return environment / "bin" / "source-claude"


def run(executable: Path, cwd: Path, *args: str) -> list:
    completed = subprocess.run([str(executable), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def test_the_wheel_alone_runs_spec_check_and_read(installed, api, config, organization, tmp_path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(configured_catalog("messages_usage", sync_mode="full_refresh")))

    [spec] = [m for m in run(installed, tmp_path, "spec") if m["type"] == "SPEC"]
    assert "admin_api_key" in spec["spec"]["connectionSpecification"]["properties"]
    [status] = [m for m in run(installed, tmp_path, "check", "--config", "config.json")
                if m["type"] == "CONNECTION_STATUS"]
    assert status["connectionStatus"]["status"] == "SUCCEEDED"
    messages = run(installed, tmp_path, "read", "--config", "config.json", "--catalog", "catalog.json")
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    assert usage_by_key(records) == expected_usage(organization, organization.day_range())
