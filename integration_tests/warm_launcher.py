"""Connector runs forked from an interpreter that has already imported the CDK, so a test's CLI run costs what the
connector does, not the 2 s of CPU that importing the CDK takes in every new process (most of the suite's CPU).

One launcher per runtime and test process, started on first use, imports only what that runtime's command imports
(`source_claude.run`, or the CDK's `source-declarative-manifest`) and nothing else: a manifest-only run must not find
the package already imported. For each run it forks; the child takes the run's arguments, environment, directory and
output files, calls the same function the console script calls, and ends as the interpreter would (SystemExit codes,
an uncaught exception to sys.excepthook and exit 1, non-daemon threads joined, atexit handlers run). The child is
a process of its own (its pid, memory and threads are sampled as a subprocess's are, and it can be killed).

`run_connector(..., fresh_interpreter=True)` starts a new interpreter instead (memory figures, the benchmark).

Protocol on the launcher's stdin/stdout, one JSON line each: {"argv", "env", "cwd", "stdout", "stderr"} in;
{"pid"} once forked, then {"exit_code"} once the child ended.
"""

import atexit
import json
import os
import subprocess
import sys
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional

ENTRY_POINTS = {
    "package": ("source_claude.run", "run"),
    "manifest-only": ("airbyte_cdk.cli.source_declarative_manifest", "run"),
}


def _exit_code(exit: SystemExit) -> int:
    """What the interpreter exits with for this SystemExit (a message goes to stderr, as sys.exit("...") does)."""
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code
    print(exit.code, file=sys.stderr)
    return 1


def _run_child(entry: Callable[[], Any], request: Mapping[str, Any]) -> None:
    """In the forked child: become the run's process, call the entry point, end as the interpreter would."""
    with open(request["stdout"], "wb") as out, open(request["stderr"], "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
    with open(os.devnull, "rb") as null:
        os.dup2(null.fileno(), 0)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    try:
        raise SystemExit(entry())
    except SystemExit as exit:
        code = _exit_code(exit)
    except BaseException:  # uncaught: the interpreter hands it to sys.excepthook (the CDK's prints a TRACE), exit 1
        sys.excepthook(*sys.exc_info())
        code = 1
    # The interpreter's own shutdown steps: threading's exit hooks (which end executor workers), then waiting for the
    # non-daemon threads, then atexit (logging's flush, the connector's cleanup).
    threading._shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve(runtime: str) -> None:
    """The launcher's loop: one run at a time, as one test process runs one connector at a time."""
    module, name = ENTRY_POINTS[runtime]
    sys.path[0] = os.path.dirname(sys.executable)  # as the console script has it, not this folder
    entry = getattr(__import__(module, fromlist=[name]), name)
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing but replies on the reply channel
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                replies.close()
                _run_child(entry, request)
            finally:
                os._exit(70)  # the child never returns to this loop, whatever failed
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"exit_code": os.waitstatus_to_exitcode(status)}) + "\n")


class Launcher:
    """The test side of one runtime's launcher."""

    _started: Dict[str, "Launcher"] = {}
    _lock = threading.Lock()

    def __init__(self, runtime: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "integration_tests.warm_launcher", runtime], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=os.path.dirname(os.path.dirname(
                os.path.abspath(__file__))), env={**os.environ, "PYTHONUNBUFFERED": "1"})

    @classmethod
    def of(cls, runtime: str) -> "Launcher":
        with cls._lock:
            launcher = cls._started.get(runtime)
            if launcher is None or launcher._process.poll() is not None:
                launcher = cls._started[runtime] = cls(runtime)
            return launcher

    def start(self, argv: List[str], env: Mapping[str, str], cwd: str, stdout: str, stderr: str) -> int:
        """Forks a run; its pid."""
        request = {"argv": argv, "env": dict(env), "cwd": cwd, "stdout": stdout, "stderr": stderr}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        return json.loads(self._process.stdout.readline())["pid"]

    def wait(self) -> Optional[int]:
        """The run's exit code (negative: killed by that signal), once it has ended."""
        line = self._process.stdout.readline()
        return json.loads(line)["exit_code"] if line else None


if __name__ == "__main__":
    serve(sys.argv[1])
