"""No output of check, discover or read, with --debug, holds any 8 characters of the key, in both runtimes that run
the CLI: not for a key pasted with a line break or an invisible character (refused before any request), nor for a
valid key through a whole read, nor for the key of a 0.0.x config."""

from datetime import timedelta

import pytest

from integration_tests.connector_cli import RUNTIMES, configured_catalog, run_connector
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY
from unit_tests.test_key_never_printed import STRAY_CHARACTERS, pasted_key, shown_fragments

COMMANDS = ("check", "discover", "read")
# An Analytics key without words the output has anyway (the stand-in's own key says "analytics").
ANALYTICS_KEY = "sk-ant-api01-Zq8xW3vNk5pT7rLm2Yc9"
CATALOG = configured_catalog("messages_usage", "users")


def everything_printed(command, config, runtime):
    run = run_connector(command, config, CATALOG if command == "read" else None, debug=True, runtime=runtime)
    return run, run.stdout + run.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", ["a wrapped paste", "a zero-width space"])
def test_a_pasted_key_is_refused_before_any_request_and_never_printed(name, runtime, api, config) -> None:
    character, position, named = STRAY_CHARACTERS[name]
    key = pasted_key(character, position)
    for command in COMMANDS:
        run, printed = everything_printed(command, {**config, "admin_api_key": key}, runtime)
        assert shown_fragments(key, printed) == [], command
        assert f"admin_api_key has {named}" in printed, command
        # The manifest-only runtime's check logs the CDK's own traceback of the refusal (without the key).
        assert runtime != "package" or "Traceback" not in printed, command
        if command == "check":
            assert (run.exit_code, run.connection_status()["status"]) == (0, "FAILED")
        else:
            assert run.exit_code != 0, command
    assert api.api_requests() == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_whole_read_with_debug_never_prints_the_key(runtime, api, config) -> None:
    run, printed = everything_printed("read", config, runtime)
    assert run.exit_code == 0 and run.records("users")
    assert "x-api-key" in printed  # --debug logs each request's headers: the key's place is there, masked
    assert shown_fragments(DEFAULT_ADMIN_KEY, printed) == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_0_0_x_config_s_key_is_never_printed_either(runtime, api) -> None:
    """A 0.0.x config names its key api_key; the manifest reads it as admin_api_key without printing the config."""
    latest = api.engagement.latest_day("skills")
    config = {"api_key": ANALYTICS_KEY, "start_date": f"{latest - timedelta(days=1)}",
              "end_date": f"{latest + timedelta(days=1)}", "api_url": api.url}
    api.analytics_keys.add(ANALYTICS_KEY)
    try:
        for command in ("check", "read"):  # discover builds the source as they do
            run = run_connector(command, config, configured_catalog("skills") if command == "read" else None,
                                debug=True, runtime=runtime)
            printed = run.stdout + run.stderr
            assert shown_fragments(ANALYTICS_KEY, printed) == [], command
            assert not run.of_type("CONTROL"), command
            assert command != "check" or run.connection_status()["status"] == "SUCCEEDED"
    finally:
        api.analytics_keys.discard(ANALYTICS_KEY)
    assert run.exit_code == 0 and run.records("skills") and "x-api-key" in printed
