"""A key the API rejects stops the whole sync at its first HTTP 401, in both runtimes: no request goes after it (with
one worker, none is in flight), every stream left unread fails with the same sentence saying to replace the key, and
the state of what was read is kept (test_reliability.py reads on from it).

What the CDK forces: it marks a stream INCOMPLETE only through an error of that stream's own, and closes a failed
sync with its summary of them; so a sync that stops has one error per stream not read to its end (not one per
window or day, as each failed on its own before), all with one sentence, then that summary."""

import json
from datetime import timedelta

import pytest

from integration_tests.connector_cli import RUNTIMES, configured_catalog, run_connector
from integration_tests.manifest_streams import ADMIN_KEY_STREAMS, INCREMENTAL

REPLACE_THE_KEY = ("Anthropic rejected the Admin API key (HTTP 401: invalid x-api-key). Check that admin_api_key is an "
                   "active Admin key (sk-ant-admin...) from Settings > Admin keys in the Claude Console; a revoked or "
                   "expired key must be replaced.")


def stream_errors(run):
    return [error for error in run.errors() if error.get("stream_descriptor")]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_wrong_key_is_refused_once_and_no_other_request_is_sent(runtime, api, config, organization) -> None:
    """Given a wrong Admin key and a year to read in every stream (hundreds of windows and days), Then the sync sends
    one request, and each stream fails once with the sentence saying to replace the key; the saved states stay."""
    start = organization.first_day - timedelta(days=365)
    wrong = {**config, "admin_api_key": "sk-ant-admin01-wrong", "start_date": start.isoformat()}

    run = run_connector("read", wrong, configured_catalog(*ADMIN_KEY_STREAMS), runtime=runtime)

    assert run.exit_code == 1
    assert len(api.api_requests()) == 1
    errors = stream_errors(run)
    assert sorted(error["stream_descriptor"]["name"] for error in errors) == sorted(ADMIN_KEY_STREAMS)
    assert {(error["message"], error["failure_type"]) for error in errors} == {(REPLACE_THE_KEY, "config_error")}
    assert len(run.errors()) == len(ADMIN_KEY_STREAMS) + 1  # and the CDK's closing summary
    assert "Traceback" not in run.stderr and "sk-ant-admin01-wrong" not in run.stdout
    assert run.records() == []
    assert_no_state_moved(run)


def assert_no_state_moved(run, streams=tuple(s for s in INCREMENTAL if s in ADMIN_KEY_STREAMS)) -> None:
    """No window a stream did not read is claimed: the windows it closes unread must not move its state."""
    states = {}
    for message in run.of_type("STATE"):
        states.setdefault(message["state"]["stream"]["stream_descriptor"]["name"], set()).add(
            json.dumps(message["state"]["stream"]["stream_state"], sort_keys=True, default=str))
    assert {stream: len(states.get(stream, ())) for stream in streams} == dict.fromkeys(streams, 1), states
