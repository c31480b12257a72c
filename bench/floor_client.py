"""The floor: the least work that reads a report stream and prints Airbyte RECORD lines.

Plain requests, orjson and a loop, written for the benchmark and sharing nothing with the connector: the same
HTTP requests (31-day windows, limit 31, next_page), the same flattening, row_key and amount_usd, and the same
RECORD serialisation. No retries, no state, no schema, no threads.

    python bench/floor_client.py URL KEY STREAM START END  > records.jsonl
"""

import hashlib
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import orjson
import requests

STREAMS = {
    "messages_usage": ("/v1/organizations/usage_report/messages",
                       ["model", "workspace_id", "api_key_id", "service_tier", "context_window"],
                       ["model", "workspace_id", "api_key_id", "service_tier", "context_window", "inference_geo",
                        "account_id", "service_account_id", "speed"]),
    "cost_report": ("/v1/organizations/cost_report", ["workspace_id", "description"],
                    ["workspace_id", "description", "cost_type", "model", "token_type", "service_tier",
                     "context_window", "inference_geo"]),
}


def main(url: str, key: str, stream: str, start: str, end: str) -> None:
    path, group_by, key_fields = STREAMS[stream]
    session = requests.Session()
    session.headers.update({"x-api-key": key, "anthropic-version": "2023-06-01"})
    out = sys.stdout.buffer
    window = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
    stop = datetime.fromisoformat(end).replace(tzinfo=timezone.utc)
    while window < stop:
        window_end = min(window + timedelta(days=31), stop)
        params = {"bucket_width": "1d", "limit": "31", "group_by[]": group_by,
                  "starting_at": f"{window:%Y-%m-%dT%H:%M:%SZ}", "ending_at": f"{window_end:%Y-%m-%dT%H:%M:%SZ}"}
        while True:
            body = orjson.loads(session.get(url + path, params=params).content)
            emitted_at = int(time.time() * 1000)
            for bucket in body["data"]:
                for row in bucket["results"]:
                    data = {"starting_at": bucket["starting_at"], "ending_at": bucket["ending_at"]}
                    for name, value in row.items():
                        if type(value) is dict:
                            prefix = "" if name == "server_tool_use" else name + "_"
                            for member, member_value in value.items():
                                data[prefix + member] = member_value
                        elif value is not None:
                            data[name] = value
                    identity = [bucket["starting_at"]] + [row.get(field) for field in key_fields]
                    data["row_key"] = hashlib.md5(orjson.dumps(identity)).hexdigest()
                    if "amount" in row:
                        data["amount_usd"] = orjson.Fragment(format(Decimal(row["amount"]).scaleb(-2), "f").encode())
                    out.write(orjson.dumps({"type": "RECORD", "record": {"stream": stream, "data": data,
                                                                          "emitted_at": emitted_at}}))
                    out.write(b"\n")
            if not body["has_more"]:
                break
            params["page"] = body["next_page"]
        window = window_end
    out.flush()


if __name__ == "__main__":
    main(*sys.argv[1:])
