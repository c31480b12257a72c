"""Runs a Connector Builder test read: the CDK's connector-builder handler, the code the Builder server runs, in its
own process, with the manifest and the text of components.py injected into the config as the Builder injects them."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import yaml

from integration_tests.connector_cli import MANIFEST_ONLY_ENV, PACKAGE, configured_catalog

# Large enough that a test read of the stand-in's organization reads every record, as a sync does.
WHOLE_READ = {"max_records": 100_000, "max_pages_per_slice": 100, "max_slices": 1_000}


def builder_test_read(config: Mapping[str, Any], stream: str, env: Optional[Mapping[str, str]] = None,
                      timeout: float = 300) -> Dict[str, Any]:
    """The handler's answer to a test read of `stream`: its one message (a RECORD holding the StreamRead, or a TRACE),
    with JSON numbers parsed as Decimal so money can be compared exactly."""
    components = (PACKAGE / "components.py").read_text()
    builder_config = {
        **config,
        "__command": "test_read",
        "__injected_declarative_manifest": yaml.safe_load((PACKAGE / "manifest.yaml").read_text()),
        "__injected_components_py": components,
        "__injected_components_py_checksums": {"md5": hashlib.md5(components.encode()).hexdigest()},
        "__test_read_config": WHOLE_READ,
    }
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "config.json").write_text(json.dumps(builder_config))
        Path(directory, "catalog.json").write_text(json.dumps(configured_catalog(stream)))
        process = subprocess.run(
            [sys.executable, "-m", "airbyte_cdk.connector_builder.main", "read",
             "--config", "config.json", "--catalog", "catalog.json"],
            capture_output=True, text=True, cwd=directory, timeout=timeout,
            env={**{k: v for k, v in os.environ.items() if k != "REQUEST_CACHE_PATH"}, **MANIFEST_ONLY_ENV,
                 **(env or {})},
        )
    # The answer is the last line; log lines of the CDK's start-up may come before it.
    return json.loads(process.stdout.splitlines()[-1], parse_float=Decimal)


def records_read(answer: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Every record of a test read's slices and pages; an error answer fails with its message."""
    assert answer["type"] == "RECORD", answer.get("trace", {}).get("error", {}).get("message")
    stream_read = answer["record"]["data"]
    return [record for test_slice in stream_read["slices"] for page in test_slice["pages"]
            for record in page["records"]]


def problems_logged(answer: Mapping[str, Any]) -> List[str]:
    return [log["message"] for log in answer["record"]["data"]["logs"] if log["level"] in ("ERROR", "FATAL")]
