"""Every way a user can get the input wrong: one sentence saying what and how to fix it, a config_error, the
exit code the protocol expects (check: 0 with a FAILED status; discover and read: non-zero), no traceback,
and never the key. Each case runs the installed CLI."""

import json

import pytest

from integration_tests.connector_cli import ConnectorRun, configured_catalog, run_connector
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY

# Config mistakes: overrides of a valid config (None removes the key), and the sentence the user must see. One of each
# kind of rule, as the CLI meets them: the whole config's (run.py), the key's, a field's, api_url's, which must not
# repeat a password. Every mistake's own sentence is unit_tests/test_config_validation.py's, in-process: check,
# discover and read build the source alike (run.py), so a CLI run per mistake tested the same path again.
CONFIG_MISTAKES = {
    "missing key": ({"admin_api_key": None}, "admin_api_key is missing: create an Admin key (sk-ant-admin...)"),
    "whitespace around the key": ({"admin_api_key": f" {DEFAULT_ADMIN_KEY}\n"}, "has spaces or line breaks around it"),
    "end_date before start_date": ({"end_date": "2000-01-01"}, "end_date 2000-01-01 is not after start_date"),
    "lookback out of range": ({"lookback_window_days": 90}, "lookback_window_days must be a whole number of days"),
    "an analytics grouping the API cannot take": ({"analytics_group_by": ["api_key_id", "description"]},
                                                  "analytics_group_by has 'description', which the Usage and Cost"),
    "api_url with a password": ({"api_url": "https://finance:hunter2-pass@proxy.example.com"},
                                "api_url has a user name or password in it"),
}
# What no message may repeat, beyond the key: a password pasted into api_url.
PASSWORD = "hunter2-pass"


def without_traceback(run: ConnectorRun) -> None:
    assert "Traceback" not in run.stdout and "Traceback" not in run.stderr
    for secret in (DEFAULT_ADMIN_KEY, PASSWORD):
        assert secret not in run.stdout and secret not in run.stderr


def the_error(run: ConnectorRun) -> dict:
    [error] = run.errors()
    assert error["failure_type"] == "config_error"
    return error


def apply(config, overrides):
    return {key: value for key, value in {**config, **overrides}.items() if value is not None}


@pytest.mark.parametrize("name", list(CONFIG_MISTAKES))
def test_config_mistake(name, api, config) -> None:
    overrides, sentence = CONFIG_MISTAKES[name]
    bad = apply(config, overrides)

    check = run_connector("check", bad)
    status = check.connection_status()
    assert (check.exit_code, status["status"]) == (0, "FAILED")
    assert sentence in status["message"]
    without_traceback(check)

    run = run_connector("read", bad, catalog=configured_catalog("messages_usage"))
    assert run.exit_code != 0
    assert sentence in the_error(run)["message"]
    without_traceback(run)
    assert api.api_requests() == []  # nothing was asked of the API with a config it would refuse


def test_discover_refuses_a_config_mistake_as_read_does(api, config) -> None:
    overrides, sentence = CONFIG_MISTAKES["lookback out of range"]
    run = run_connector("discover", apply(config, overrides))
    assert run.exit_code != 0
    assert sentence in the_error(run)["message"]
    without_traceback(run)


@pytest.mark.parametrize("command", ["discover", "read"])
def test_an_empty_config_is_refused_in_one_sentence(command, api) -> None:
    run = run_connector(command, {}, catalog=configured_catalog("messages_usage") if command == "read" else None)

    assert run.exit_code != 0
    assert the_error(run)["message"].startswith("admin_api_key is missing: create an Admin key")
    without_traceback(run)
    assert api.api_requests() == []


def test_an_unreachable_host_fails_check_in_one_sentence(config) -> None:
    check = run_connector("check", {**config, "api_url": "https://nowhere.invalid"})

    assert check.connection_status()["message"].startswith("Could not connect to https://nowhere.invalid")
    without_traceback(check)


def test_a_catalog_naming_an_unknown_stream(api, config) -> None:
    run = run_connector("read", config, configured_catalog("messages_usage", "invoices"))

    assert run.exit_code != 0
    assert the_error(run)["message"].startswith("The catalog asks for invoices, which this source does not have")
    assert run.records() == [] and api.api_requests() == []
    without_traceback(run)


@pytest.mark.parametrize(
    "state, sentence",
    [
        ('[{"type": "STREAM", "stream": {', "source-claude could not read its input"),
        (json.dumps([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "cost_report"},
                                                    "stream_state": {"starting_at": "last tuesday"}}}]),
         "The saved state of cost_report has starting_at 'last tuesday', which is not a UTC date like 2025-01-31T00:00:00Z"),
    ],
    ids=["not JSON", "a cursor that is not a timestamp"],
)
def test_a_corrupt_state(state, sentence, api, config) -> None:
    run = run_connector("read", config, configured_catalog("cost_report"), state)

    assert run.exit_code != 0
    assert sentence in the_error(run)["message"]
    assert api.api_requests() == []
    without_traceback(run)
