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


# Each test read as the Builder's handler answers it, in one process, so that many reads pay the CDK's start-up once.
HANDLER = """
import sys
from airbyte_cdk.connector_builder.main import handle_request
from airbyte_cdk.models import AirbyteMessageSerializer
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
import orjson
for stream in sys.argv[1:]:
    try:
        answer = handle_request(["read", "--config", "config.json", "--catalog", f"{stream}.catalog.json"])
    except Exception as exc:  # as airbyte_cdk.connector_builder.main answers
        error = AirbyteTracedException.from_exception(exc, message=f"Error handling request: {exc}")
        answer = orjson.dumps(AirbyteMessageSerializer.dump(error.as_airbyte_message())).decode()
    print(f"\\n{ANSWER_MARK}{stream}\\n{answer}", flush=True)
"""
ANSWER_MARK = "=== test read of "


def builder_test_read(config: Mapping[str, Any], stream: str, env: Optional[Mapping[str, str]] = None,
                      timeout: float = 300) -> Dict[str, Any]:
    """The handler's answer to a test read of `stream`: its one message (a RECORD holding the StreamRead, or a TRACE),
    with JSON numbers parsed as Decimal so money can be compared exactly."""
    return builder_test_reads(config, [stream], env, timeout)[stream]


def builder_test_reads(config: Mapping[str, Any], streams: List[str], env: Optional[Mapping[str, str]] = None,
                       timeout: float = 600) -> Dict[str, Dict[str, Any]]:
    """The handler's answer to a test read of each stream, one after the other in one process, as a Builder server
    that outlives a request runs the next."""
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
        for stream in streams:
            Path(directory, f"{stream}.catalog.json").write_text(json.dumps(configured_catalog(stream)))
        process = subprocess.run(
            [sys.executable, "-c", HANDLER.replace("{ANSWER_MARK}", ANSWER_MARK), *streams],
            capture_output=True, text=True, cwd=directory, timeout=timeout,
            env={**{k: v for k, v in os.environ.items() if k != "REQUEST_CACHE_PATH"}, **MANIFEST_ONLY_ENV,
                 **(env or {})},
        )
    # Each answer is the line after its mark; log lines of the CDK's start-up may come before.
    answers = {}
    for part in process.stdout.split(f"\n{ANSWER_MARK}")[1:]:
        stream, answer = part.split("\n", 2)[:2]
        answers[stream] = json.loads(answer, parse_float=Decimal)
    assert list(answers) == list(streams), process.stderr[-3000:]
    return answers


def records_read(answer: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Every record of a test read's slices and pages; an error answer fails with its message."""
    assert answer["type"] == "RECORD", answer.get("trace", {}).get("error", {}).get("message")
    stream_read = answer["record"]["data"]
    return [record for test_slice in stream_read["slices"] for page in test_slice["pages"]
            for record in page["records"]]


def problems_logged(answer: Mapping[str, Any]) -> List[str]:
    return [log["message"] for log in answer["record"]["data"]["logs"] if log["level"] in ("ERROR", "FATAL")]
