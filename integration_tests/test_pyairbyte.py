"""PyAirbyte as users run it: the example notebook, executed headless, answers with the ground truth; and
`pyab validate` passes. Both against the stand-in; PyAirbyte comes from the `demo` extra `make test` installs."""

import json
import logging
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from integration_tests.connector_cli import CONNECTOR
from integration_tests.fake_admin_api import Organization
from integration_tests.ground_truth import expected_cost, expected_usage, on_one_day

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# What the notebook syncs when no ANTHROPIC_ADMIN_KEY is set.
NOTEBOOK_ORGANIZATION = dict(days=90, rows_per_day=100, seed=2026)


@pytest.fixture
def logging_as_it_was():
    """PyAirbyte, run in this process, reconfigures the `airbyte` loggers it shares with the connector (their handlers,
    levels, propagation): put them back, or later tests in this worker see none of the connector's warnings."""
    loggers = [logging.getLogger()] + [logger for name, logger in list(logging.Logger.manager.loggerDict.items())
                                       if isinstance(logger, logging.Logger)]
    saved = [(logger, logger.level, logger.propagate, logger.disabled, list(logger.handlers)) for logger in loggers]
    disabled = logging.root.manager.disable
    yield
    for logger, level, propagate, was_disabled, handlers in saved:
        logger.setLevel(level)
        logger.propagate, logger.disabled, logger.handlers = propagate, was_disabled, handlers
    for name, logger in list(logging.Logger.manager.loggerDict.items()):  # loggers PyAirbyte made: quiet again
        if isinstance(logger, logging.Logger) and logger not in loggers:
            logger.handlers, logger.propagate = [], True
    logging.disable(disabled)


def code_cells(notebook: Path):
    return ["".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"]


def test_the_example_notebook_runs_headless_and_answers_with_the_ground_truth(tmp_path, monkeypatch,
                                                                             logging_as_it_was) -> None:
    """Its code cells run in order in one namespace, as a kernel would run them, without Jupyter."""
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
    monkeypatch.setenv("AIRBYTE_PROJECT_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def run_notebook():
        namespace: dict = {}
        for number, source in enumerate(code_cells(EXAMPLES / "claude_usage.ipynb"), start=1):
            exec(compile(source, f"claude_usage.ipynb, code cell {number}", "exec"), namespace)
        return namespace, date.today()

    # The notebook's stand-in ends yesterday (UTC) and its queries count back from today (local), so the ground
    # truth is built for the day the notebook ran on, and a run across midnight is redone.
    utc_today, (namespace, today) = on_one_day(run_notebook)
    organization = Organization(**NOTEBOOK_ORGANIZATION, last_day=utc_today - timedelta(days=1))
    synced = [day for day in organization.day_range() if day >= today - timedelta(days=90)]
    recent = [day for day in organization.day_range() if day >= today - timedelta(days=30)]
    tokens, costs = namespace["tokens"], namespace["costs"]
    assert int(tokens["input_tokens"].sum() + tokens["output_tokens"].sum()) == sum(
        sum(sums.values()) - sums["web_search_requests"] for sums in expected_usage(organization, recent).values())
    assert sum(Decimal(usd) for usd in costs["usd"]) == sum(
        line["amount"] for line in expected_cost(organization, synced).values()) / 100
    assert (tmp_path / "daily_cost_by_model.png").stat().st_size > 10_000
    # The join the docs show: every key and workspace named, the default workspace and Console usage labelled.
    by_key = namespace["tokens_by_key"]
    assert int(by_key["tokens"].sum()) == sum(
        sum(sums.values()) - sums["web_search_requests"] for sums in expected_usage(organization, recent).values())
    assert by_key["api_key"].notna().all() and by_key["workspace"].notna().all()
    assert "Default workspace" in set(by_key["workspace"]) and "(Console: no key)" in set(by_key["api_key"])
    assert list(by_key["tokens"]) == sorted(by_key["tokens"], reverse=True)


def test_pyab_validate_passes_against_the_stand_in(api, config, tmp_path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(config))
    pyab = Path(sys.executable).with_name("pyab")
    completed = subprocess.run(
        [str(pyab), "validate", "--connector", CONNECTOR, "--config", str(tmp_path / "config.json")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "AIRBYTE_PROJECT_DIR": str(tmp_path)},
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "Connection check succeeded" in completed.stdout + completed.stderr
    assert api.api_requests(), "pyab's check never reached the stand-in"
