"""What the Docker image does, without a Docker engine: build the wheel, install it into a clean virtualenv, and run
spec, check and read from that install (outside the checkout, so nothing is imported from it).

The wheel is installed without resolving its dependencies again: the clean virtualenv sees the test environment's
packages through a path file (which adds their directory, not the checkout's editable install), since `make test`
has just resolved the same dependencies from pyproject.toml. Resolving and installing them a second time was a third
of the suite's time and tested pip, not the wheel. What the wheel itself must get right is checked instead: its
files (the manifest above all), its console script, and that every module it imports comes from a dependency it
declares, or from one of theirs."""

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path
from typing import Set

import pytest
from packaging.requirements import Requirement

from integration_tests.connector_cli import configured_catalog
from integration_tests.ground_truth import expected_usage, usage_by_key

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work), str(ROOT)],
                   check=True, capture_output=True)
    [built] = work.glob("airbyte_source_claude-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    environment = wheel.parent / "venv"
    venv.create(environment, with_pip=False)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(environment / "bin" / "python"), "install",
                    "--quiet", "--no-compile", "--no-deps", "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True)
    [site_packages] = environment.glob("lib/python*/site-packages")
    (site_packages / "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return environment / "bin" / "source-claude"


def run(executable: Path, cwd: Path, *args: str) -> list:
    completed = subprocess.run([str(executable), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def test_the_wheel_alone_runs_spec_check_and_read(installed, api, config, organization, tmp_path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(configured_catalog("messages_usage", sync_mode="full_refresh")))
    where = subprocess.run([str(installed.with_name("python")), "-c", "import source_claude; print(source_claude.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(installed.parent.parent), f"imported from {where}, not from the wheel"

    [spec] = [m for m in run(installed, tmp_path, "spec") if m["type"] == "SPEC"]
    assert "admin_api_key" in spec["spec"]["connectionSpecification"]["properties"]
    [status] = [m for m in run(installed, tmp_path, "check", "--config", "config.json")
                if m["type"] == "CONNECTION_STATUS"]
    assert status["connectionStatus"]["status"] == "SUCCEEDED"
    messages = run(installed, tmp_path, "read", "--config", "config.json", "--catalog", "catalog.json")
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    assert usage_by_key(records) == expected_usage(organization, organization.day_range())


def test_every_module_the_wheel_imports_comes_from_what_it_declares(wheel: Path) -> None:
    """A module imported by the connector but provided only by a package nobody declares would import here and fail
    in the image on the day that package leaves the dependency tree."""
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        declared = [Requirement(line.split(":", 1)[1].strip()) for line in archive.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
        imported = set().union(*(top_level_imports(archive.read(name).decode())
                                 for name in archive.namelist() if name.endswith(".py")))
    provided = {name for requirement in declared for name in with_dependencies(requirement.name)}
    providers = importlib.metadata.packages_distributions()
    third_party = {module for module in imported - set(sys.stdlib_module_names) - {"source_claude"}}
    undeclared = {module: providers.get(module) for module in third_party
                  if not {normalized(name) for name in providers.get(module, [])} & provided}
    assert third_party, "no third-party import found: the check reads nothing"
    assert not undeclared, f"imported, but from no declared dependency: {undeclared}"


def top_level_imports(source: str) -> Set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def with_dependencies(distribution: str, seen: Set[str] = None) -> Set[str]:
    """The distribution and everything it requires, transitively, without extras, as installed here."""
    seen = set() if seen is None else seen
    name = normalized(distribution)
    if name in seen:
        return seen
    seen.add(name)
    for line in importlib.metadata.requires(distribution) or ():
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            with_dependencies(requirement.name, seen)
    return seen


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
