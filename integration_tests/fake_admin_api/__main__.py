"""Serve the stand-in: `python -m integration_tests.fake_admin_api --port 8765 --days 90 --rows-per-day 200`.

Prints one line, the base URL, once it is listening, then serves until interrupted.
"""

import argparse
import signal
import sys
import threading

from . import DEFAULT_ADMIN_KEY, FakeAdminApi, FaultPlan, Organization


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m integration_tests.fake_admin_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=90, help="days of data, ending yesterday (UTC)")
    parser.add_argument("--rows-per-day", type=int, default=60, help="usage report rows per day at five dimensions")
    parser.add_argument("--admin-key", action="append", help=f"accepted Admin key (default {DEFAULT_ADMIN_KEY})")
    parser.add_argument("--fault", action="append", default=[], help="fault spec, see faults.py (repeatable)")
    args = parser.parse_args(argv)

    organization = Organization(seed=args.seed, days=args.days, rows_per_day=args.rows_per_day)
    api = FakeAdminApi(organization, admin_keys=args.admin_key or [DEFAULT_ADMIN_KEY],
                       faults=FaultPlan.parse(args.fault), host=args.host, port=args.port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    api.start()
    print(api.url, flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
