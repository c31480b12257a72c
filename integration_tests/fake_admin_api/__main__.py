"""Serve the stand-in: `python -m integration_tests.fake_admin_api --port 8765 --days 90 --rows-per-day 200`.

Prints one line, the base URL, once it is listening, then serves until interrupted. `--rate-limit 2/70` answers
429s beyond 2 requests per 70 s for the organization (rate_limit.py); `--fault` injects faults (faults.py);
`--latency 0.3` answers every request 300 ms late.
"""

import argparse
import signal
import sys
import threading
from datetime import date, datetime, timezone

from . import DEFAULT_ADMIN_KEY, DEFAULT_ANALYTICS_KEY, FakeAdminApi, FaultPlan, Organization
from .rate_limit import parse_rate_limit


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m integration_tests.fake_admin_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=90, help="days of data, ending yesterday (UTC)")
    parser.add_argument("--through-today", action="store_true",
                        help="the days end today instead: today's usage is served hour by hour as each hour ends "
                             "(a daily bucket is served only once its day has ended)")
    parser.add_argument("--rows-per-day", type=int, default=60, help="usage report rows per day at five dimensions")
    parser.add_argument("--admin-key", action="append", help=f"accepted Admin key (default {DEFAULT_ADMIN_KEY})")
    parser.add_argument("--analytics-key", action="append",
                        help=f"accepted Analytics key, which reads only /analytics/* (default {DEFAULT_ANALYTICS_KEY})")
    parser.add_argument("--fault", action="append", default=[], help="fault spec, see faults.py (repeatable)")
    parser.add_argument("--rate-limit", type=_rate_limit, metavar="N/SECONDS",
                        help="at most N requests per SECONDS for the organization, then 429s (default: no limit)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long before answering each request, as a real API's round trip (default: 0)")
    parser.add_argument("--keys-appear-on", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="report rows of earlier days lack inference_geo, account_id, service_account_id "
                             "(default: the middle day of the data)")
    args = parser.parse_args(argv)

    today = datetime.now(timezone.utc).date()
    organization = Organization(seed=args.seed, days=args.days, rows_per_day=args.rows_per_day,
                                keys_appear_on=args.keys_appear_on, last_day=today if args.through_today else None)
    api = FakeAdminApi(organization, admin_keys=args.admin_key or [DEFAULT_ADMIN_KEY],
                       analytics_keys=args.analytics_key or [DEFAULT_ANALYTICS_KEY],
                       faults=FaultPlan.parse(args.fault), host=args.host, port=args.port, rate_limit=args.rate_limit,
                       latency=args.latency)
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


def _rate_limit(text: str):
    try:
        return parse_rate_limit(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


if __name__ == "__main__":
    main()
