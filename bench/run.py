"""`make bench`: the connector against the floor, per stream, on one stand-in, in one run.

Starts the local stand-in with a large organization (365 days x 2,000 usage rows a day by default) in this
process, then, for each stream and for several rounds, runs a full-refresh `read` of the installed
`source-claude` CLI and the floor client (bench/floor_client.py) as subprocesses, measuring each one's wall
time, CPU time and peak memory (from its own rusage), its records, and the API calls it made. It prints
medians and the connector/floor ratios; the machine is noisy, so the ratios are the figures, not the seconds.
It reports; it never fails on a number.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from integration_tests.connector_cli import PeakMemory  # noqa: E402
from integration_tests.fake_admin_api import COST_PATH, DEFAULT_ADMIN_KEY, USAGE_PATH, FakeAdminApi, Organization  # noqa: E402

CONNECTOR = str(Path(sys.executable).with_name("source-claude"))
FLOOR = str(ROOT / "bench" / "floor_client.py")
PATHS = {"messages_usage": USAGE_PATH, "cost_report": COST_PATH}


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
    parser.add_argument("--rows-per-day", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--streams", default="messages_usage,cost_report")
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
