import copy
from typing import Any, Dict, List

import pytest

import airbyte_cdk.sources.declarative.concurrent_declarative_source as concurrent_declarative_source
import airbyte_cdk.sources.declarative.yaml_declarative_source as yaml_declarative_source
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

# The CDK's standard connector tests parametrize their `scenario` from acceptance-test-config.yml.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

_PARSED: Dict[Any, Any] = {}
# Each file runs on one worker (--dist loadfile), and these spend minutes mostly waiting on retries and subprocesses:
# ordered by their number of tests (xdist's default), they started late and ran alone for the suite's final minute.
# By the wall time each took in one suite run (-n 3, 2026-12-03): 173 s down to 41 s; every other file under 35 s.
LONGEST_FILES = ("test_reliability.py", "test_where_it_runs.py", "test_runtimes.py", "test_beyond_reports.py",
                 "test_end_to_end.py", "test_key_never_printed.py", "test_analytics_end_to_end.py",
                 "test_engagement_end_to_end.py", "test_saved_state.py", "test_bad_input.py", "test_one_thread_read.py",
                 "test_pyairbyte.py", "test_misbehaving_api.py")


def pytest_collection_modifyitems(items: List[Any]) -> None:
    """The longest files first; the rest in collection order (a stable sort)."""
    items.sort(key=lambda item: LONGEST_FILES.index(item.path.name) if item.path.name in LONGEST_FILES else
               len(LONGEST_FILES))


def parsed_once(stream: Any) -> Any:
    """safe_load_yaml, once per text in each test process: the CDK parses manifest.yaml and its own component schema
    again at every source it builds (a third of building one), and the tests build thousands. Each caller gets its
    own copy, as it got its own parse."""
    text = stream if isinstance(stream, (str, bytes)) else stream.read()
    if text not in _PARSED:
        _PARSED[text] = safe_load_yaml(text)
    return copy.deepcopy(_PARSED[text])


@pytest.fixture(autouse=True, scope="session")
def yaml_parsed_once():
    """Where the CDK calls safe_load_yaml; a CDK that moves the call just parses as before (raising=False)."""
    with pytest.MonkeyPatch.context() as patch:
        for module in (yaml_declarative_source, concurrent_declarative_source):
            patch.setattr(module, "safe_load_yaml", parsed_once, raising=False)
        yield
