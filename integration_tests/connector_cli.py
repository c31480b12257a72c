"""Runs the connector as a subprocess, the way Airbyte and PyAirbyte do: the installed `source-claude` command, or the
CDK's manifest-only runtime (`source-declarative-manifest`) on the package's manifest.yaml and components.py."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from integration_tests.warm_launcher import Launcher

CONNECTOR = str(Path(sys.executable).with_name("source-claude"))
PACKAGE = Path(__file__).resolve().parent.parent / "source_claude"
# The image airbyte/source-declarative-manifest runs this command, with the two files the Connector Builder exports.
MANIFEST_ONLY = [str(Path(sys.executable).with_name("source-declarative-manifest"))]


def manifest_only_args(folder: Path) -> List[str]:
    return ["--manifest-path", str(folder / "manifest.yaml"), "--components-path", str(folder / "components.py")]


MANIFEST_ONLY_ARGS = manifest_only_args(PACKAGE)
# The manifest-only runtime runs components.py only when told that it may.
MANIFEST_ONLY_ENV = {"AIRBYTE_ENABLE_UNSAFE_CODE": "true"}
RUNTIMES = ("package", "manifest-only")
PRIMARY_KEY = "row_key"


@dataclass
class ConnectorRun:
    exit_code: int
    stdout: str
    stderr: str
    messages: List[Dict[str, Any]] = field(default_factory=list)
    peak_mib: float = 0.0
    most_threads: int = 0

    def of_type(self, message_type: str) -> List[Dict[str, Any]]:
        return [m for m in self.messages if m["type"] == message_type]

    def records(self, stream: Optional[str] = None) -> List[Dict[str, Any]]:
        return [m["record"]["data"] for m in self.of_type("RECORD") if stream in (None, m["record"]["stream"])]

    def final_states(self) -> List[Dict[str, Any]]:
        """The last STATE message of each stream: what a platform would hand to the next sync."""
        latest: Dict[str, Dict[str, Any]] = {}
        for message in self.of_type("STATE"):
            latest[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
        return list(latest.values())

    def errors(self) -> List[Dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]

    def connection_status(self) -> Dict[str, Any]:
        [status] = self.of_type("CONNECTION_STATUS")
        return status["connectionStatus"]


def run_connector(
    command: str,
    config: Optional[Mapping[str, Any]] = None,
    catalog: Optional[Mapping[str, Any]] = None,
    state: Optional[Union[str, Sequence[Mapping[str, Any]]]] = None,
    timeout: float = 300,
    debug: bool = False,
    runtime: str = "package",
    folder: Path = PACKAGE,
    fresh_interpreter: bool = False,
) -> ConnectorRun:
    """Runs one protocol command in `runtime` (one of RUNTIMES), the manifest-only one on `folder`'s manifest.yaml and
    components.py; JSON numbers are parsed as Decimal so money can be compared exactly.

    Inputs are written as JSON files; a str is written verbatim (a corrupt file, say). The run is a process forked from
    an interpreter that has imported the CDK already (warm_launcher.py), or with fresh_interpreter a new interpreter,
    as for memory figures.
    """
    manifest_only = runtime == "manifest-only"
    with tempfile.TemporaryDirectory() as directory:
        args = [*(MANIFEST_ONLY if manifest_only else [CONNECTOR]), command] + (["--debug"] if debug else [])
        args += manifest_only_args(folder) if manifest_only else []
        for name, content in (("config", config), ("catalog", catalog), ("state", state)):
            if content is not None:
                path = Path(directory, f"{name}.json")
                text = content if isinstance(content, str) else json.dumps(content, default=float)  # Decimals -> JSON
                path.write_text(text)
                args += [f"--{name}", str(path)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(MANIFEST_ONLY_ENV if manifest_only else {})}
        run = _fresh_run if fresh_interpreter else _forked_run
        exit_code, stdout, stderr, peaks = run(runtime, args, env, directory, timeout)
    messages = [json.loads(line, parse_float=Decimal) for line in stdout.splitlines() if line.startswith("{")]
    return ConnectorRun(exit_code, stdout, stderr, messages, peaks.memory_kib / 1024, peaks.threads)


def _fresh_run(runtime: str, args: List[str], env: Mapping[str, str], directory: str, timeout: float):
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=directory, env=env)
    peaks = ProcessPeaks(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()  # a connector that loops must not outlive its test
        process.communicate()
        raise
    finally:
        peaks.stop()
    return process.returncode, stdout, stderr, peaks


def _forked_run(runtime: str, args: List[str], env: Mapping[str, str], directory: str, timeout: float):
    launcher, killed = Launcher.of(runtime), threading.Event()

    def kill(pid: int) -> None:  # a connector that loops must not outlive its test
        killed.set()
        os.kill(pid, signal.SIGKILL)

    with tempfile.TemporaryDirectory() as outputs:  # not in the run's own directory, which tests look into
        out, err = Path(outputs, "stdout"), Path(outputs, "stderr")
        pid = launcher.start(args, env, directory, str(out), str(err))
        peaks = ProcessPeaks(pid)
        timer = threading.Timer(timeout, kill, (pid,))
        timer.start()
        try:
            exit_code = launcher.wait()
        finally:
            timer.cancel()
            peaks.stop()
        if killed.is_set():
            raise subprocess.TimeoutExpired(args, timeout)
        return exit_code, out.read_text(), err.read_text(), peaks


class ProcessPeaks:
    """A process's own high-water RSS (VmHWM) and the most threads it ran at once, sampled from /proc while it runs.

    rusage's ru_maxrss will not do: on Linux a child inherits the forking parent's high-water mark across exec,
    and the parents here (tests, the benchmark) can hold a whole synthetic organization.
    """

    def __init__(self, pid: int) -> None:
        self._path, self._done = f"/proc/{pid}/status", threading.Event()
        self.memory_kib = self.threads = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while True:
            try:
                with open(self._path) as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            self.memory_kib = max(self.memory_kib, int(line.split()[1]))
                        elif line.startswith("Threads:"):
                            self.threads = max(self.threads, int(line.split()[1]))
            except (FileNotFoundError, ProcessLookupError, ValueError):
                return
            if self._done.wait(0.05):
                return

    def stop(self) -> "ProcessPeaks":
        self._done.set()
        self._thread.join()
        return self


def configured_catalog(*streams: str, sync_mode: str = "incremental") -> Dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {
                    "name": stream,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                    "source_defined_cursor": True,
                    "default_cursor_field": ["starting_at"],
                    "source_defined_primary_key": [[PRIMARY_KEY]],
                },
                "sync_mode": sync_mode,
                "destination_sync_mode": "append_dedup" if sync_mode == "incremental" else "overwrite",
                "cursor_field": ["starting_at"],
                "primary_key": [[PRIMARY_KEY]],
            }
            for stream in streams
        ]
    }


def deduplicated(records: Sequence[Mapping[str, Any]]) -> Dict[str, Mapping[str, Any]]:
    """What an Append + Deduped destination keeps: the last record of each primary key."""
    return {record[PRIMARY_KEY]: record for record in records}
