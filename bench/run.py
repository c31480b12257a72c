"""`make bench`: the connector against the floor, per stream, on one stand-in, in one run; then a one-year backfill
of every stream under the organization's rate limit.

CPU section: starts the local stand-in with a large organization (365 days x 2,000 usage rows a day by default) in
this process, then, for each stream and for several rounds, runs a full-refresh `read` of the installed
`source-claude` CLI and the floor client (bench/floor_client.py) as subprocesses, measuring each one's wall
time, CPU time and peak memory (from its own rusage), its records, and the API calls it made. It prints
medians and the connector/floor ratios; the machine is noisy, so the ratios are the figures, not the seconds.

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

`--only cpu` or `--only rate-limit` runs one section. It reports; it never fails on a number.
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
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from integration_tests.connector_cli import PeakMemory  # noqa: E402
from integration_tests.fake_admin_api import (  # noqa: E402
    COST_PATH, DEFAULT_ADMIN_KEY, USAGE_PATH, FakeAdminApi, LoggedRequest, Organization,
)
from integration_tests.fake_admin_api.rate_limit import parse_rate_limit  # noqa: E402

CONNECTOR = str(Path(sys.executable).with_name("source-claude"))
FLOOR = str(ROOT / "bench" / "floor_client.py")
BURST = str(ROOT / "bench" / "burst_client.py")
PATHS = {"messages_usage": USAGE_PATH, "cost_report": COST_PATH}
CLIENTS = ("connector", "capped", "naive")  # the rate-limited section's clients, in the order they run
ALL_STREAMS = ("messages_usage", "messages_usage_hourly", "cost_report", "claude_code_usage", "claude_code_model_usage",
               "organization", "workspaces", "workspace_members", "api_keys", "users", "invites", "usage_analytics",
               "cost_analytics")
# The connector's INFO lines for its waits (components.py: AnnouncedWait and OrganizationPace).
WAIT_LOG = re.compile(r"^Waiting (?P<seconds>[0-9.]+) s, until \S+, before retrying: HTTP 429")
PACE_LOG = re.compile(r"^Pacing requests to the organization's request limit .*: waiting (?P<seconds>[0-9.]+) s, ")


@dataclass
class Measurement:
    records: int
    calls: int
    wall: float
    cpu: float
    peak_mib: float


def measure(api: FakeAdminApi, stream: str, command: List[str]) -> Measurement:
    api.clear_log()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    peak = PeakMemory(process.pid)
    records = 0
    for line in process.stdout:
        records += line.startswith(b'{"type":"RECORD"')
    peak_kib = peak.stop()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[0]} exited with status {status}")
    return Measurement(records, len(api.api_requests(PATHS[stream])), wall,
                       usage.ru_utime + usage.ru_stime, peak_kib / 1024)


def connector_command(api: FakeAdminApi, stream: str, organization: Organization, workdir: Path) -> List[str]:
    config = {"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": organization.first_day.isoformat(),
              "api_url": api.url}
    catalog = {"streams": [{"stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / f"{stream}.json").write_text(json.dumps(catalog))
    return [CONNECTOR, "read", "--config", str(workdir / "config.json"), "--catalog", str(workdir / f"{stream}.json")]


def floor_command(api: FakeAdminApi, stream: str, organization: Organization) -> List[str]:
    end = time.strftime("%Y-%m-%dT00:00:00", time.gmtime())  # the last midnight UTC: the newest bucket that ended
    return [sys.executable, FLOOR, api.url, DEFAULT_ADMIN_KEY, stream, organization.first_day.isoformat(), end]


def median(values: List[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rows-per-day", type=int, default=2000, help="CPU section only")
    parser.add_argument("--rounds", type=int, default=3, help="CPU section only")
    parser.add_argument("--streams", default="messages_usage,cost_report", help="CPU section only")
    parser.add_argument("--rate-limit", type=parse_rate_limit, default="50/10", metavar="N/SECONDS",
                        help="the organization's limit in the rate-limited section (default 50/10)")
    parser.add_argument("--clients", type=clients, default="connector,naive", metavar="CLIENT,...",
                        help=f"rate-limited section: some of {','.join(CLIENTS)} (default connector,naive)")
    parser.add_argument("--only", choices=("cpu", "rate-limit"), help="run one section (default: both)")
    args = parser.parse_args()
    if args.only != "rate-limit":
        cpu_section(args)
    if args.only != "cpu":
        rate_limited_section(args)


def clients(text: str) -> List[str]:
    chosen = text.split(",")
    if not chosen or any(client not in CLIENTS for client in chosen):
        raise ValueError(text)
    return [client for client in CLIENTS if client in chosen]


def cpu_section(args: argparse.Namespace) -> None:
    organization = Organization(seed=5, days=args.days, rows_per_day=args.rows_per_day)
    print(f"Organization: {args.days} days x ~{args.rows_per_day} usage rows/day; generating rows...", flush=True)
    for day in organization.day_range():
        organization.cost_rows(day)
    minimum_calls = math.ceil(args.days / 31)
    results: Dict[str, Dict[str, List[Measurement]]] = {}
    with FakeAdminApi(organization) as api, tempfile.TemporaryDirectory() as workdir:
        for stream in args.streams.split(","):
            runs = results.setdefault(stream, {"connector": [], "floor": []})
            for round_number in range(args.rounds):
                # Alternate the order so neither side always meets a warm server cache.
                order = ("connector", "floor") if round_number % 2 == 0 else ("floor", "connector")
                for side in order:
                    command = (connector_command(api, stream, organization, Path(workdir)) if side == "connector"
                               else floor_command(api, stream, organization))
                    runs[side].append(measure(api, stream, command))
                    last = runs[side][-1]
                    print(f"  {stream:15} {side:9} round {round_number + 1}: {last.records:>9,} records, "
                          f"{last.calls} calls, {last.wall:6.2f} s wall, {last.cpu:6.2f} s CPU, "
                          f"{last.peak_mib:6.0f} MiB", flush=True)
    report(results, minimum_calls, args)


def report(results: Dict[str, Dict[str, List[Measurement]]], minimum_calls: int, args: argparse.Namespace) -> None:
    print(f"\nMedians of {args.rounds} rounds, {args.days} days x ~{args.rows_per_day} usage rows/day "
          f"(minimum calls per stream: {minimum_calls})")
    header = f"{'stream':15} {'side':9} {'records':>10} {'calls':>5} {'wall s':>7} {'CPU s':>7} {'rec/CPU s':>10} {'peak MiB':>8}"
    print(header)
    print("-" * len(header))
    for stream, runs in results.items():
        medians = {}
        for side, measurements in runs.items():
            cpu = median([m.cpu for m in measurements])
            medians[side] = (median([m.wall for m in measurements]), cpu)
            records = measurements[0].records
            print(f"{stream:15} {side:9} {records:>10,} {measurements[0].calls:>5} "
                  f"{medians[side][0]:>7.2f} {cpu:>7.2f} {records / cpu:>10,.0f} "
                  f"{median([m.peak_mib for m in measurements]):>8.0f}")
        wall_ratio = medians["connector"][0] / medians["floor"][0]
        cpu_ratio = medians["connector"][1] / medians["floor"][1]
        print(f"{stream:15} connector/floor: CPU {cpu_ratio:.2f}x, wall {wall_ratio:.2f}x\n")



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
