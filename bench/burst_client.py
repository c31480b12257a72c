"""The naive client for the rate-limited benchmark: bursts into the organization's limit and waits for each reset.

It sends a given list of requests (the connector's own, recorded by the stand-in) back to back with plain
`requests`, reads each body, and on a 429 sleeps until the `anthropic-ratelimit-requests-reset` the answer names,
with no margin, then sends the same request again. It never paces itself. Against a fixed window this is the
fastest any client can go (each window serves its full N), at the price of one 429 per window.

    python bench/burst_client.py URL KEY REQUESTS_JSON

REQUESTS_JSON is a file holding [[path, [[name, value], ...]], ...]. Exits 1 on any answer other than 2xx or 429.
"""

import json
import sys
import time
from datetime import datetime

import requests

RESET_HEADER = "anthropic-ratelimit-requests-reset"


def main(url: str, key: str, requests_file: str) -> None:
    with open(requests_file) as listing:
        planned = json.load(listing)
    session = requests.Session()
    # The beta header the Usage and Cost Analytics API requires; the Admin API's endpoints ignore it.
    session.headers.update({"x-api-key": key, "anthropic-version": "2023-06-01",
                            "anthropic-beta": "analytics-usage-cost-2026-08-24"})
    for path, query in planned:
        while True:
            response = session.get(url + path, params=query)
            response.content  # read the whole body, as a client that uses it would
            if response.status_code != 429:
                break
            reset_at = datetime.fromisoformat(response.headers[RESET_HEADER].replace("Z", "+00:00")).timestamp()
            time.sleep(max(0.0, reset_at - time.time()))
        if not response.ok:
            raise SystemExit(f"HTTP {response.status_code} for {path}: {response.text[:200]}")


if __name__ == "__main__":
    main(*sys.argv[1:])
