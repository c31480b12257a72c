"""The directory the CDK's entrypoint makes for each run (where the Claude Code pages are kept) never outlives the
run, and no file in it holds the key: a killed run's is deleted by the next run, a cancelled run (SIGTERM) deletes
its own. Each run is a subprocess of the CLI, in either runtime, with its own temporary directory (TMPDIR)."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, List

import pytest

from integration_tests.connector_cli import (CONNECTOR, MANIFEST_ONLY, MANIFEST_ONLY_ARGS, MANIFEST_ONLY_ENV, RUNTIMES,
                                             configured_catalog)
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, FaultPlan, parse_fault

CLAUDE_CODE = ("claude_code_usage", "claude_code_model_usage")
# How long a run may take to reach the point a test waits for: it takes seconds.
PATIENCE = 60


def start_read(runtime: str, config, temp: Path, inputs: Path) -> subprocess.Popen:
    (inputs / "config.json").write_text(json.dumps(config))
    (inputs / "catalog.json").write_text(json.dumps(configured_catalog(*CLAUDE_CODE, sync_mode="full_refresh")))
    manifest_only = runtime == "manifest-only"
    args = [*(MANIFEST_ONLY if manifest_only else [CONNECTOR]), "read", "--config", str(inputs / "config.json"),
            "--catalog", str(inputs / "catalog.json"), *(MANIFEST_ONLY_ARGS if manifest_only else [])]
    env = {**os.environ, "TMPDIR": str(temp), **(MANIFEST_ONLY_ENV if manifest_only else {})}
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=inputs, env=env)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert process.poll() is None, "the run ended before the test could stop it"
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.05)


def run_directories(temp: Path) -> List[Path]:
    return [path for path in temp.iterdir() if path.is_dir()]


def holds(directory: Path, text: bytes, files: str = "*") -> bool:
    return any(text in path.read_bytes() for path in directory.rglob(files) if path.is_file())


def keeps_a_page(temp: Path) -> bool:
    return any(holds(directory, b'"has_more"', "*.sqlite*") for directory in run_directories(temp))


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_killed_run_leaves_no_key_and_the_next_run_cancelled_leaves_nothing(runtime, api, config, tmp_path) -> None:
    """Given a read of the Claude Code streams whose third request never comes back, When it is killed once a page
    is kept, Then its directory holds neither the key nor a config.json; When a second run is started and then
    cancelled (SIGTERM), Then it has deleted the first run's directory, and its own."""
    first_day = next(day for day in api.organization.day_range() if api.directory.claude_code_records(day))
    api.faults = FaultPlan([parse_fault(f"slow:seconds={PATIENCE}@3-")])
    config = {**config, "start_date": first_day.isoformat()}
    temp, inputs = tmp_path / "tmp", tmp_path / "inputs"
    temp.mkdir(), inputs.mkdir()

    killed = start_read(runtime, config, temp, inputs)
    try:
        wait_for(lambda: keeps_a_page(temp), killed)
    finally:
        killed.kill()
    killed.wait()
    [left] = run_directories(temp)
    assert not (left / "config.json").exists()
    assert not holds(left, DEFAULT_ADMIN_KEY.encode())

    requests_before = len(api.api_requests())
    cancelled = start_read(runtime, config, temp, inputs)
    try:
        wait_for(lambda: len(api.api_requests()) > requests_before, cancelled)
    finally:
        cancelled.send_signal(signal.SIGTERM)
    assert cancelled.wait(PATIENCE) == -signal.SIGTERM
    assert run_directories(temp) == []
