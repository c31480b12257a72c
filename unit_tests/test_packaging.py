"""What Airbyte's registry and image build read: metadata, Dockerfile, icon, docs, and the manifest's validity."""

import re
import xml.etree.ElementTree as ElementTree
from datetime import date, timedelta
from pathlib import Path

import yaml

from airbyte_cdk.sources.declarative.concurrent_declarative_source import (
    ConcurrentDeclarativeSource,
    get_declarative_component_schema,
    validate_manifest,
)
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

from integration_tests.manifest_streams import EVERY_STREAM
from source_claude.source import MANIFEST

ROOT = Path(__file__).resolve().parent.parent
METADATA = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]
PYPROJECT_TEXT = (ROOT / "pyproject.toml").read_text()


def pyproject(key: str) -> str:
    """A top-level `key = "value"` of pyproject.toml (tomllib needs Python 3.11; the connector supports 3.10)."""
    return re.search(rf'^{key} = "([^"]+)"', PYPROJECT_TEXT, re.M).group(1)


DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_one_version_everywhere() -> None:
    version = pyproject("version")
    assert METADATA["dockerImageTag"] == version
    changelog = (ROOT / "docs" / "claude.md").read_text().split("## Changelog", 1)[1]
    assert re.search(r"^\| (\d+\.\d+\.\d+) \|", changelog, re.M).group(1) == version  # newest entry first


def test_metadata_has_what_the_registry_expects() -> None:
    assert METADATA["allowedHosts"]["hosts"] == ["api.anthropic.com"]
    assert METADATA["dockerRepository"] == "airbyte/source-claude"
    assert METADATA["documentationUrl"] == "https://docs.airbyte.com/integrations/sources/claude"
    for field in ("connectorType", "connectorSubtype", "documentationUrl", "name", "releaseStage", "supportLevel"):
        assert METADATA[field], field


def test_the_registry_runs_it_manifest_only_as_it_runs_0_0_x() -> None:
    """The registry's image is the manifest-only runtime of the CDK the connector is tested with, as for 0.0.x (whose
    license and PyPI setting it keeps: manifest-only connectors are not published to PyPI)."""
    assert set(METADATA["tags"]) == {"language:manifest-only", "cdk:low-code"}
    cdk = re.search(r'"airbyte-cdk>=(\d+\.\d+\.\d+),', PYPROJECT_TEXT).group(1)
    base = METADATA["connectorBuildOptions"]["baseImage"]
    assert re.fullmatch(rf"docker\.io/airbyte/source-declarative-manifest:{re.escape(cdk)}(@sha256:[0-9a-f]{{64}})?",
                        base), base
    assert METADATA["remoteRegistries"]["pypi"] == {"enabled": False, "packageName": pyproject("name")}
    assert METADATA["license"] == "ELv2"


def test_it_ships_as_the_next_major_version_of_the_registry_s_claude_connector() -> None:
    """Airbyte's registry has source-claude 0.0.x under this definitionId: users upgrade into 1.0.0, warned by the
    breaking change entry in time, and led by its migration guide."""
    assert METADATA["definitionId"] == "c4654197-3155-4a8a-95e2-a1dd1f8cff5b"
    assert METADATA["dockerImageTag"] == "1.0.0"
    breaking = METADATA["releases"]["breakingChanges"]["1.0.0"]
    changelog = (ROOT / "docs" / "claude.md").read_text().split("## Changelog", 1)[1]
    released = date.fromisoformat(re.search(r"^\| 1\.0\.0 \| (\S+) \|", changelog, re.M).group(1))
    assert date.fromisoformat(breaking["upgradeDeadline"]) >= released + timedelta(days=14)
    for stream in ("users", "user_activity", "usage_analytics", "cost_analytics", "migration guide"):
        assert stream in breaking["message"], stream
    guide = (ROOT / "docs" / "claude-migrations.md").read_text()
    assert re.search(r"^## Upgrading to 1\.0\.0$", guide, re.M)
    # Every 0.0.x stream is in the guide, with what it becomes.
    for stream in ("users", "chat_projects", "skills", "connectors", "summaries", "user_usage_report",
                   "user_cost_report", "usage_report", "cost_report"):
        assert re.search(rf"^\| `{stream}` \(", guide, re.M), stream


def test_the_dockerfile_builds_the_python_package_on_a_pinned_base_and_runs_the_console_script() -> None:
    """The Dockerfile is this repository's own image of the Python package (`docker run` with the package's extras),
    not the registry's: that is built from metadata.yaml's base image."""
    assert re.search(r"^FROM docker\.io/airbyte/python-connector-base:\S+@sha256:[0-9a-f]{64}$", DOCKERFILE, re.M)
    script = "source-claude"
    assert pyproject(script) == "source_claude.run:run"  # the console script of [project.scripts]
    assert re.search(rf'^ENV AIRBYTE_ENTRYPOINT="{script}"$', DOCKERFILE, re.M)
    assert re.search(rf'^ENTRYPOINT \["{script}"\]$', DOCKERFILE, re.M)
    assert re.search(r"^USER airbyte$", DOCKERFILE, re.M)


def test_the_icon_is_a_square_svg() -> None:
    svg = ElementTree.parse(ROOT / METADATA["icon"]).getroot()
    assert svg.tag.endswith("svg") and svg.get("width") == svg.get("height")


def test_the_manifest_passes_the_declarative_schema_as_the_connector_builder_loads_it() -> None:
    manifest = yaml.safe_load(Path(MANIFEST).read_text())
    resolved = ManifestReferenceResolver().preprocess_manifest(manifest)
    propagated = ManifestComponentTransformer().propagate_types_and_parameters("", resolved, {})
    validate_manifest(propagated, get_declarative_component_schema())
    # The Builder also normalizes (extracts shared definitions); that must succeed and keep every stream.
    source = ConcurrentDeclarativeSource(source_config=manifest, normalize_manifest=True)
    assert [stream["name"] for stream in source.resolved_manifest["streams"]] == list(EVERY_STREAM)
