"""The package reads on one thread (source_claude/one_thread_read.py); the manifest-only runtime runs the same two
files with the CDK's own read, a worker thread and the main thread. Given the same config, catalog and state, each
stream gets the same messages from both, in the same order: its records, its states with their record counts, its
stream statuses and its errors (aside from the frames a stack trace names, and the request id and date each response
carries). The exit code is the same.

Only how the streams' messages interleave may differ: in the CDK's own read that depends on how far the worker has
run ahead, and changes from run to run. So does where a stream's "rate limited" status falls among its records: the
CDK prints it as it meets the limit, while records read before may still wait to be written."""

import re
from collections import defaultdict
from typing import Any, Dict, List, Optional

from integration_tests.connector_cli import ConnectorRun, configured_catalog, run_connector
from integration_tests.fake_admin_api import FaultPlan, parse_fault
from integration_tests.manifest_streams import ADMIN_KEY_STREAMS

# What differs from one answer to the next, in an error's internal message: the request id and the Date header.
RUN_SPECIFICS = re.compile(r"req_[0-9a-f]{24}|\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT")


def by_stream(run: ConnectorRun) -> Dict[Optional[str], List[Dict[str, Any]]]:
    """Each stream's RECORD, STATE and TRACE messages in the order they came, without the times they were emitted;
    its "rate limited" statuses apart ("<stream> rate limited"); a TRACE that names no stream (the sync's closing error)
    under None."""
    streams: Dict[Optional[str], List[Dict[str, Any]]] = defaultdict(list)
    for message in run.messages:
        if message["type"] == "RECORD":
            message["record"].pop("emitted_at")
            streams[message["record"]["stream"]].append(message)
        elif message["type"] == "STATE":
            streams[message["state"]["stream"]["stream_descriptor"]["name"]].append(message)
        elif message["type"] == "TRACE":
            trace = message["trace"]
            trace.pop("emitted_at")
            about = trace.get("stream_status") or trace.get("error") or {}
            if "stack_trace" in about:
                about.pop("stack_trace")
                about["internal_message"] = RUN_SPECIFICS.sub("<varies>", about.get("internal_message") or "")
                about["message"] = RUN_SPECIFICS.sub("<varies>", about["message"])
            stream = (about.get("stream_descriptor") or {}).get("name")
            streams[f"{stream} rate limited" if about.get("reasons") else stream].append(message)
    return dict(streams)


def both_reads(api, config, catalog, state=None, faults=(), requests_sent=None) -> Dict[str, ConnectorRun]:
    """One read in each runtime; requests_sent, if given, gets how many requests each run sent the stand-in."""
    runs = {}
    for runtime in ("package", "manifest-only"):
        api.clear_log()  # the faults count requests from 1 in each run
        api.faults = FaultPlan([parse_fault(fault) for fault in faults])
        runs[runtime] = run_connector("read", config, catalog, state=state, runtime=runtime)
        if requests_sent is not None:
            requests_sent[runtime] = len(api.api_requests())
    return runs


def test_a_first_sync_and_one_from_its_state_give_what_the_cdk_s_own_read_gives(api, config) -> None:
    """Every stream from nothing, where the third request, in messages_usage's third window, meets the rate limit (a
    429 whose limit resets a second later); then the report streams from the first sync's state (windows from the
    cursor less the lookback). One test, so the first sync is read once per runtime."""
    first_sync = both_reads(api, config, configured_catalog(*ADMIN_KEY_STREAMS), faults=["429:reset=1@3"])

    package, cdk = first_sync["package"], first_sync["manifest-only"]
    assert package.exit_code == cdk.exit_code == 0, package.errors()
    assert all(package.records(stream) for stream in ADMIN_KEY_STREAMS)
    streams = by_stream(package)
    assert len(streams["messages_usage rate limited"]) == 1
    assert streams == by_stream(cdk)

    reports = ("messages_usage", "messages_usage_hourly", "cost_report", "claude_code_usage")
    state = [state for state in package.final_states() if state["stream"]["stream_descriptor"]["name"] in reports]

    runs = both_reads(api, config, configured_catalog(*reports), state=state)

    package, cdk = runs["package"], runs["manifest-only"]
    assert package.exit_code == cdk.exit_code == 0, package.errors()
    assert len(state) == len(reports) and all(package.records(stream) for stream in reports)
    assert by_stream(package) == by_stream(cdk)


def test_a_key_revoked_midway_fails_every_stream_as_the_cdk_s_own_read_does(api, config) -> None:
    """From the 3rd request on, every answer is a 401: messages_usage fails in its third window (a partition), and
    the sync stops there, in both reads: no request follows the first 401, and every other stream fails once, before
    its first request (workspace_members before reading its parent, the workspaces, to make its partitions)."""
    requests_sent: Dict[str, int] = {}
    runs = both_reads(api, config, configured_catalog(*ADMIN_KEY_STREAMS), faults=["401@3-"], requests_sent=requests_sent)

    package, cdk = runs["package"], runs["manifest-only"]
    assert package.exit_code == cdk.exit_code == 1
    assert requests_sent == {"package": 3, "manifest-only": 3}
    streams = by_stream(package)
    assert {stream: len([message for message in streams[stream] if message["type"] == "TRACE"
                         and "error" in message["trace"]]) for stream in ADMIN_KEY_STREAMS} == dict.fromkeys(ADMIN_KEY_STREAMS, 1)
    assert len(package.records("messages_usage")) > 0
    assert streams == by_stream(cdk)
