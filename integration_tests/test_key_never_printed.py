"""No output of check, discover or read, with --debug, holds any 8 characters of the key, in both runtimes that run
the CLI: not for a key pasted with a line break or an invisible character (refused before any request), nor for a
valid key through a whole read."""

import pytest

from integration_tests.connector_cli import RUNTIMES, configured_catalog, run_connector
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY
from unit_tests.test_key_never_printed import STRAY_CHARACTERS, pasted_key, shown_fragments

COMMANDS = ("check", "discover", "read")
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
