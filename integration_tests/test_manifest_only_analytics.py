"""The analytics streams and the key kinds in the CDK's manifest-only runtime (`source-declarative-manifest`, as the
Airbyte platform runs manifest-only connectors): the manifest and components.py alone, without the package."""

import hashlib
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, DEFAULT_ANALYTICS_KEY
from integration_tests.ground_truth import analytics_days, on_one_day

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = str(Path(sys.executable).with_name("source-declarative-manifest"))


@pytest.mark.parametrize("key, expected_streams", [
    (DEFAULT_ADMIN_KEY, {"messages_usage", "cost_analytics"}),
    (DEFAULT_ANALYTICS_KEY, {"cost_analytics"}),
], ids=["admin key", "analytics key"])
def test_the_manifest_alone_reads_cost_analytics_for_either_key(api, organization, tmp_path, key,
                                                                 expected_streams) -> None:
    start_date = organization.last_day - timedelta(days=5)
    components = (ROOT / "source_claude" / "components.py").read_text()
    config = {
        "admin_api_key": key, "start_date": start_date.isoformat(), "api_url": api.url,
        "__injected_declarative_manifest": yaml.safe_load((ROOT / "source_claude" / "manifest.yaml").read_text()),
        "__injected_components_py": components,
        "__injected_components_py_checksums": {"md5": hashlib.md5(components.encode()).hexdigest()},
    }
    catalog = {"streams": [{"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["incremental"]},
                            "sync_mode": "incremental", "destination_sync_mode": "append"}
                           for name in ("messages_usage", "cost_analytics")]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))

    today, run = on_one_day(lambda: subprocess.run(
        [RUNTIME, "read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "AIRBYTE_ENABLE_UNSAFE_CODE": "true"}))
    if not analytics_days(organization, start_date, today):  # 2026-01-01 itself: nothing the new API serves yet
        expected_streams = expected_streams - {"cost_analytics"}

    messages = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    streams = {m["record"]["stream"] for m in messages if m["type"] == "RECORD"}
    warnings = [m["log"]["message"] for m in messages if m["type"] == "LOG" and m["log"]["level"] == "WARN"]
    assert run.returncode == 0, run.stdout[-2000:]
    assert streams == expected_streams
    skipped = [w for w in warnings if w.startswith("Skipping messages_usage: this key reads only")]
    assert len(skipped) == (0 if key == DEFAULT_ADMIN_KEY else 1)
