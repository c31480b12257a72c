"""`make bench`: the connector against the floor, per stream, on one stand-in, in one run; then a one-year read at a
realistic latency; then a one-year backfill of every stream under the organization's rate limit.

CPU section: starts the local stand-in with a large organization (365 days x 2,000 usage rows a day by default) in
this process, then, for each stream and for several rounds, runs a full-refresh `read` of each side as a subprocess
with stdout a pipe: the installed `source-claude` CLI (`connector`), the floor client (bench/floor_client.py) and,
on request (`--sides`), the same manifest.yaml and components.py in the CDK's manifest-only runtime
(`manifest-only`: the CDK's own read, a worker thread and the main thread, which the package replaces with one
thread). Each side runs free on every CPU of the machine and limited to one CPU (`--cpus`; the limit is the child's
CPU affinity, as `taskset -c N`, the nearest this process can get to a container's CPU limit), the variants
interleaved within each round so that the machine's load falls on all alike. For each run: wall time, CPU time and
peak memory (from its own rusage), its records, and the API calls it made. It prints medians, the best and worst
CPU of the rounds (a spread of worst/best), and the ratios to the floor; the machine is noisy, so the ratios are the
figures, not the seconds.

Latency section: the stand-in answers every request `--latency` seconds late (default 0.3), and one `read` of every
stream over `--days` days, from the CPU section's organization, is timed for the connector and for the CDK's own read
(the manifest-only runtime), alternating, `--latency-rounds` each: whether reading on one thread, which cannot write
records while the next page is on its way, costs wall time.

Rate-limited section: a small organization (the stand-in's default rows a day; this measures calls and waits, not
CPU) behind a per-organization limit of N requests per W seconds (`--rate-limit`, default 50/10: the real limit is
not published, so the scale keeps a client's burst a sizeable part of a window, as on the real API, and the section
about three minutes long). One full-refresh `read` of every stream over `--days` days by the connector without a
limit (its own pace, and the requests it makes), then under the limit by each of `--clients`: `connector`, as built
(it learns the limit from its first 429, then paces); `naive` (bench/burst_client.py), which sends the connector's own
requests back to back and, on each 429, sleeps until the reset the answer names; and, on request, `capped`, the
connector with max_requests_per_minute set to the limit (it paces from the first request). For each it prints
requests, 429s, the time waited after 429s, the connector's logged waits, wall time, and the least time the limit
allows for that many requests. One round each: the counts are exact, the seconds noisy.

`--only cpu`, `--only latency` or `--only rate-limit` runs one section. It reports; it never fails on a number.
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from integration_tests.connector_cli import (  # noqa: E402
    MANIFEST_ONLY, MANIFEST_ONLY_ARGS, MANIFEST_ONLY_ENV, ProcessPeaks,
)
from integration_tests.fake_admin_api import (  # noqa: E402
    COST_PATH, DEFAULT_ADMIN_KEY, USAGE_PATH, FakeAdminApi, LoggedRequest, Organization,
)
from integration_tests.fake_admin_api.rate_limit import parse_rate_limit  # noqa: E402
from integration_tests.manifest_streams import EVERY_STREAM as ALL_STREAMS  # noqa: E402

CONNECTOR = str(Path(sys.executable).with_name("source-claude"))
FLOOR = str(ROOT / "bench" / "floor_client.py")
BURST = str(ROOT / "bench" / "burst_client.py")
PATHS = {"messages_usage": USAGE_PATH, "cost_report": COST_PATH}
SIDES = ("connector", "manifest-only", "floor")  # the CPU section's sides, in the order they are reported
CPUS = ("all", "1")  # free on every CPU of the machine; limited to one
CLIENTS = ("connector", "capped", "naive")  # the rate-limited section's clients, in the order they run
# The connector's INFO lines for its waits (components.py: AdminApiErrorHandler.backoff_time; before 1.0.0 also its pace).
WAIT_LOG = re.compile(r"^Waiting (?P<seconds>[0-9.]+) s, until \S+, before retrying: HTTP 429")
PACE_LOG = re.compile(r"^Pacing requests to the organization's request limit .*: waiting (?P<seconds>[0-9.]+) s, ")


@dataclass
class Measurement:
    records: int
    calls: int
    wall: float
    cpu: float
    peak_mib: float


def measure(api: FakeAdminApi, path: Optional[str], command: List[str], one_cpu: bool = False) -> Measurement:
    """One run of `command`, its API calls counted on `path` (None: every Admin API path)."""
    api.clear_log()
    started = time.perf_counter()
    # MANIFEST_ONLY_ENV lets the manifest-only runtime run components.py.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir(),
                               env={**os.environ, **MANIFEST_ONLY_ENV}, preexec_fn=on_one_cpu if one_cpu else None)
    peaks = ProcessPeaks(process.pid)
    records = 0
    for line in process.stdout:
        records += line.startswith(b'{"type":"RECORD"')
    peak_kib = peaks.stop().memory_kib
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[0]} exited with status {status}")
    return Measurement(records, len(api.api_requests(path)), wall, usage.ru_utime + usage.ru_stime, peak_kib / 1024)


def on_one_cpu() -> None:
    """In the child, before it runs: only the first CPU this process may use."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def connector_command(api: FakeAdminApi, streams: List[str], organization: Organization, workdir: Path,
                      side: str = "connector") -> List[str]:
    """A full-refresh read of `streams` by the package's CLI (side `connector`) or by the manifest-only runtime."""
    config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": organization.first_day.isoformat(),
              "api_url": api.url}
    catalog = {"streams": [{"stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for stream in streams]}
    name = "-".join(streams) if len(streams) < 3 else "streams"
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / f"{name}.json").write_text(json.dumps(catalog))
    files = ["--config", str(workdir / "config.json"), "--catalog", str(workdir / f"{name}.json")]
    if side == "manifest-only":
        return [*MANIFEST_ONLY, "read", *files, *MANIFEST_ONLY_ARGS]
    return [CONNECTOR, "read", *files]


def floor_command(api: FakeAdminApi, stream: str, organization: Organization) -> List[str]:
    end = time.strftime("%Y-%m-%dT00:00:00", time.gmtime())  # the last midnight UTC: the newest bucket that ended
    return [sys.executable, FLOOR, api.url, DEFAULT_ADMIN_KEY, stream, organization.first_day.isoformat(), end]


def median(values: List[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rows-per-day", type=int, default=2000, help="CPU and latency sections")
    parser.add_argument("--rounds", type=int, default=5, help="CPU section: runs of each side and CPU limit")
    parser.add_argument("--streams", default="messages_usage,cost_report", help="CPU section only")
    parser.add_argument("--sides", type=choices_of(SIDES), default="connector,floor", metavar="SIDE,...",
                        help=f"CPU section: some of {','.join(SIDES)} (default connector,floor)")
    parser.add_argument("--cpus", type=choices_of(CPUS), default="all,1", metavar="CPUS,...",
                        help="CPU section: 'all' (free on every CPU), '1' (limited to one CPU), or both (default)")
    parser.add_argument("--latency", type=float, default=0.3, metavar="SECONDS",
                        help="latency section: how late the stand-in answers each request (default 0.3)")
    parser.add_argument("--latency-rounds", type=int, default=1, help="latency section: reads by each side")
    parser.add_argument("--rate-limit", type=parse_rate_limit, default="50/10", metavar="N/SECONDS",
                        help="the organization's limit in the rate-limited section (default 50/10)")
    parser.add_argument("--clients", type=choices_of(CLIENTS), default="connector,naive", metavar="CLIENT,...",
                        help=f"rate-limited section: some of {','.join(CLIENTS)} (default connector,naive)")
    parser.add_argument("--only", choices=("cpu", "latency", "rate-limit"), help="run one section (default: all)")
    args = parser.parse_args()
    organization = None
    if args.only in (None, "cpu", "latency"):
        organization = Organization(seed=5, days=args.days, rows_per_day=args.rows_per_day)
        print(f"Organization: {args.days} days x ~{args.rows_per_day} usage rows/day; generating rows...", flush=True)
        for day in organization.day_range():
            organization.cost_rows(day)
    if args.only in (None, "cpu"):
        cpu_section(args, organization)
    if args.only in (None, "latency"):
        latency_section(args, organization)
    if args.only in (None, "rate-limit"):
        rate_limited_section(args)


def choices_of(known: Tuple[str, ...]) -> Callable[[str], List[str]]:
    """An option's parser: some of `known`, comma-separated, returned in the order of `known`."""
    def parse(text: str) -> List[str]:
        chosen = text.split(",")
        if not chosen or any(choice not in known for choice in chosen):
            raise ValueError(text)
        return [choice for choice in known if choice in chosen]
    return parse


def cpu_section(args: argparse.Namespace, organization: Organization) -> None:
    minimum_calls = math.ceil(args.days / 31)
    variants = [(side, cpus) for side in args.sides for cpus in args.cpus]
    results: Dict[str, Dict[Tuple[str, str], List[Measurement]]] = {}
    with FakeAdminApi(organization) as api, tempfile.TemporaryDirectory() as workdir:
        for stream in args.streams.split(","):
            runs = results.setdefault(stream, {variant: [] for variant in variants})
            # Untimed: the stand-in makes and keeps its answers, so that no timed run shares the machine with it.
            measure(api, PATHS[stream], floor_command(api, stream, organization))
            for round_number in range(args.rounds):
                # Alternate the order so that no variant always has the same neighbours.
                for side, cpus in variants if round_number % 2 == 0 else variants[::-1]:
                    command = (floor_command(api, stream, organization) if side == "floor"
                               else connector_command(api, [stream], organization, Path(workdir), side))
                    runs[side, cpus].append(measure(api, PATHS[stream], command, one_cpu=cpus == "1"))
                    last = runs[side, cpus][-1]
                    print(f"  {stream:15} {side:13} {cpu_label(cpus):8} round {round_number + 1}: "
                          f"{last.records:>9,} records, {last.calls} calls, {last.wall:6.2f} s wall, "
                          f"{last.cpu:6.2f} s CPU, {last.peak_mib:6.0f} MiB", flush=True)
    report(results, minimum_calls, args)


def cpu_label(cpus: str) -> str:
    return "all CPUs" if cpus == "all" else "one CPU"


def report(results: Dict[str, Dict[Tuple[str, str], List[Measurement]]], minimum_calls: int,
           args: argparse.Namespace) -> None:
    print(f"\nMedians of {args.rounds} rounds, {args.days} days x ~{args.rows_per_day} usage rows/day "
          f"(minimum calls per stream: {minimum_calls}); the best and worst CPU of the rounds, and worst/best")
    header = (f"{'stream':15} {'side':13} {'CPUs':8} {'records':>10} {'calls':>5} {'wall s':>7} {'CPU s':>7} "
              f"{'best':>6} {'worst':>6} {'worst/best':>10} {'rec/CPU s':>10} {'peak MiB':>8}")
    print(header)
    print("-" * len(header))
    for stream, runs in results.items():
        cpu: Dict[Tuple[str, str], float] = {}
        for (side, cpus), measurements in runs.items():
            seconds = [m.cpu for m in measurements]
            cpu[side, cpus] = median(seconds)
            records = measurements[0].records
            print(f"{stream:15} {side:13} {cpu_label(cpus):8} {records:>10,} {measurements[0].calls:>5} "
                  f"{median([m.wall for m in measurements]):>7.2f} {cpu[side, cpus]:>7.2f} {min(seconds):>6.2f} "
                  f"{max(seconds):>6.2f} {max(seconds) / min(seconds):>9.2f}x {records / cpu[side, cpus]:>10,.0f} "
                  f"{median([m.peak_mib for m in measurements]):>8.0f}")
        for side in args.sides:
            ratios = [f"{cpu_label(cpus)} {cpu[side, cpus] / cpu['floor', cpus]:.2f}x" for cpus in args.cpus
                      if side != "floor" and ("floor", cpus) in cpu]
            if ratios:
                print(f"{stream:15} {side}/floor CPU: {', '.join(ratios)}")
        if len(args.cpus) == 2:
            for side in args.sides:
                print(f"{stream:15} {side} CPU on one CPU / on all: {cpu[side, '1'] / cpu[side, 'all']:.2f}x")
        print()


# -- Latency section -------------------------------------------------------------------------------------------------

def latency_section(args: argparse.Namespace, organization: Organization) -> None:
    """One read of every stream against a stand-in that answers each request late, by the package and by the CDK's
    own read (the manifest-only runtime), alternating."""
    sides = ("connector", "manifest-only")
    print(f"\nOne read of all {len(ALL_STREAMS)} streams, {args.days} days x ~{args.rows_per_day} usage rows/day, the "
          f"stand-in answering each request {args.latency:g} s late", flush=True)
    runs: Dict[str, List[Measurement]] = {side: [] for side in sides}
    with FakeAdminApi(organization, latency=args.latency) as api, tempfile.TemporaryDirectory() as workdir:
        for round_number in range(args.latency_rounds):
            for side in sides if round_number % 2 == 0 else sides[::-1]:
                command = connector_command(api, list(ALL_STREAMS), organization, Path(workdir), side)
                runs[side].append(measure(api, None, command))
                last = runs[side][-1]
                print(f"  {side:13} round {round_number + 1}: {last.records:>9,} records, {last.calls} calls, "
                      f"{last.wall:6.1f} s wall, {last.cpu:6.1f} s CPU", flush=True)
    one_thread, cdk = (median([m.wall for m in runs[side]]) for side in sides)
    calls = runs["connector"][0].calls
    print(f"Medians of {args.latency_rounds}: the connector (one thread) {one_thread:.1f} s wall, the CDK's own read "
          f"(manifest-only) {cdk:.1f} s: {one_thread / cdk:.2f}x; {calls} requests, so at least "
          f"{calls * args.latency:.1f} s of waiting for answers")


# -- Rate-limited section --------------------------------------------------------------------------------------------

@dataclass
class LimitedRun:
    """One client's read, as the stand-in logged it and as the client's own process saw it."""

    side: str
    requests: List[LoggedRequest]  # every Admin API request, 429s included, in arrival order
    wall: float  # process start to exit
    records: Optional[int] = None  # connector sides: RECORD lines
    logged_waits: Optional[Tuple[float, float]] = None  # connector sides: logged 429 waits, logged pacing waits

    @property
    def limited(self) -> int:
        return sum(1 for request in self.requests if request.status == 429)

    @property
    def served(self) -> int:
        return len(self.requests) - self.limited

    @property
    def spread(self) -> float:
        """First request to last: the part of the wall time the limit can stretch."""
        return self.requests[-1].at - self.requests[0].at if len(self.requests) > 1 else 0.0

    @property
    def waited_after_429s(self) -> float:
        """From each 429 to the client's next request (its retry), from the stand-in's log."""
        return sum(following.at - request.at for request, following in zip(self.requests, self.requests[1:])
                   if request.status == 429)


def least_seconds(served: int, limit: Tuple[int, float]) -> float:
    """The least time from first to last request that a fixed window of N per W allows for `served` requests."""
    requests, seconds = limit
    return (math.ceil(served / requests) - 1) * seconds


def path_label(request: LoggedRequest) -> str:
    path = request.path
    if path.startswith("/v1/organizations/workspaces/") and path.endswith("/members"):
        return "workspaces/{id}/members"
    if request.query.get("bucket_width") == ["1h"]:
        return f"{path.removeprefix('/v1/organizations/')} (1h)"
    return path.removeprefix("/v1/organizations/")


def run_limited(api: FakeAdminApi, side: str, command: List[str], connector: bool) -> LimitedRun:
    api.clear_log()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    records, waits, paces = 0, 0.0, 0.0
    for line in process.stdout:
        if line.startswith(b'{"type":"RECORD"'):
            records += 1
        elif line.startswith(b'{"type":"LOG"'):
            message = json.loads(line)["log"]["message"]
            wait, pace = WAIT_LOG.match(message), PACE_LOG.match(message)
            waits += float(wait["seconds"]) if wait else 0.0
            paces += float(pace["seconds"]) if pace else 0.0
    status = process.wait()
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{side}: {command[0]} exited with status {status}")
    return LimitedRun(side, api.api_requests(), wall, records if connector else None,
                      (waits, paces) if connector else None)


def all_streams_command(api: FakeAdminApi, organization: Organization, workdir: Path, name: str,
                        **settings: Any) -> List[str]:
    config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": organization.first_day.isoformat(),
              "api_url": api.url, **settings}
    catalog = {"streams": [{"stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
                           for stream in ALL_STREAMS]}
    (workdir / f"{name}.config.json").write_text(json.dumps(config))
    (workdir / f"{name}.catalog.json").write_text(json.dumps(catalog))
    return [CONNECTOR, "read", "--config", str(workdir / f"{name}.config.json"),
            "--catalog", str(workdir / f"{name}.catalog.json")]


def burst_command(api: FakeAdminApi, planned: List[LoggedRequest], workdir: Path) -> List[str]:
    listing = [[request.path, [[name, value] for name, values in request.query.items() for value in values]]
               for request in planned]
    (workdir / "requests.json").write_text(json.dumps(listing))
    return [sys.executable, BURST, api.url, DEFAULT_ADMIN_KEY, str(workdir / "requests.json")]


def rate_limited_section(args: argparse.Namespace) -> None:
    limit = args.rate_limit
    per_minute = round(limit[0] * 60 / limit[1])
    organization = Organization(seed=5, days=args.days)
    print(f"\nRate-limited backfill: all {len(ALL_STREAMS)} streams, {args.days} days, one full-refresh read per "
          f"client; the organization's limit {limit[0]} requests per {limit[1]:g} s", flush=True)
    runs: Dict[str, LimitedRun] = {}
    with FakeAdminApi(organization) as api, tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)

        def run(side: str, command: List[str], connector: bool, rate_limit: Optional[Tuple[int, float]]) -> LimitedRun:
            api.rate_limit = rate_limit  # a fresh window for each client
            result = run_limited(api, side, command, connector)
            print(f"  {side:42} {'limited' if rate_limit else 'no limit':8}: {len(result.requests)} requests, "
                  f"{result.limited} 429s, {result.spread:6.1f} s first to last request, {result.wall:6.1f} s wall",
                  flush=True)
            return result

        unlimited = run("connector", all_streams_command(api, organization, folder, "connector"), True, None)
        planned = [request for request in unlimited.requests if request.status != 429]
        commands = {
            "connector": ("connector", all_streams_command(api, organization, folder, "connector"), True),
            "capped": (f"connector, max_requests_per_minute={per_minute}",
                       all_streams_command(api, organization, folder, "capped", max_requests_per_minute=per_minute),
                       True),
            "naive": ("naive client (burst, wait for each reset)", burst_command(api, planned, folder), False),
        }
        for client in args.clients:
            side, command, connector = commands[client]
            runs[client] = run(side, command, connector, limit)
    report_limited(runs, unlimited, limit)


def report_limited(runs: Dict[str, LimitedRun], unlimited: LimitedRun, limit: Tuple[int, float]) -> None:
    shown = next(iter(runs.values()))
    print(f"\nRequests per path, served (429s), by the {shown.side} under the limit; every client sends the same:")
    paths: Dict[str, List[int]] = {}
    for request in shown.requests:
        counts = paths.setdefault(path_label(request), [0, 0])
        counts[request.status == 429] += 1
    for label, (served, limited) in sorted(paths.items(), key=lambda item: -sum(item[1])):
        print(f"  {label:32} {served:>5} ({limited})")
    print(f"  {'total':32} {shown.served:>5} ({shown.limited})")

    least = least_seconds(unlimited.served, limit)
    print(f"\nThe limit, {limit[0]} per {limit[1]:g} s, allows {unlimited.served} requests in no less than {least:.0f} s "
          f"from first to last ((ceil({unlimited.served}/{limit[0]}) - 1) x {limit[1]:g} s; a window that ends on a "
          f"whole second can last up to 1 s more). Without a limit the connector takes {unlimited.spread:.1f} s "
          f"from first to last request, {unlimited.wall:.1f} s wall.")
    header = (f"{'client':42} {'requests':>8} {'429s':>4} {'waited after 429s s':>19} {'logged waits s (429/pace)':>25} "
              f"{'limit added s':>13} {'first-last s':>12} {'wall s':>7} {'least s':>7} {'wall/least':>10}")
    print(header)
    print("-" * len(header))
    for run in runs.values():
        logged = f"{run.logged_waits[0]:.1f} / {run.logged_waits[1]:.1f}" if run.logged_waits else "-"
        added = f"{run.spread - unlimited.spread:.1f}" if run.records is not None else "-"
        least = least_seconds(run.served, limit)
        print(f"{run.side:42} {len(run.requests):>8} {run.limited:>4} {run.waited_after_429s:>19.1f} {logged:>25} "
              f"{added:>13} {run.spread:>12.1f} {run.wall:>7.1f} {least:>7.0f} "
              f"{run.wall / least if least else float('nan'):>10.2f}")
    for run in runs.values():
        if run.records is not None and run.records != unlimited.records:
            print(f"Records differ: {run.side} {run.records:,}, without a limit {unlimited.records:,}")
    naive = runs.get("naive")
    for run in runs.values():
        if naive is not None and run is not naive:
            print(f"{run.side} vs naive client: 429s {run.limited} vs {naive.limited}; first to last request "
                  f"{run.spread:.1f} s vs {naive.spread:.1f} s ({run.spread / naive.spread:.2f}x); wall "
                  f"{run.wall:.1f} s vs {naive.wall:.1f} s ({run.wall / naive.wall:.2f}x)")
    print("'limit added': the connector's first-to-last time minus its own without a limit. 'waited after 429s': from "
          "each 429 to the client's next request, in the stand-in's log. Pacing waits under 1 s are not logged.")

if __name__ == "__main__":
    main()
