"""Assembles what the pull request to airbytehq/airbyte contains, in its layout, under build/upstream/ (removed and
rebuilt each time): the manifest-only connector folder and its two docs pages.

Every file is copied from its source in this repository, or from tools/upstream/ for the few that exist only
upstream; the one edit is acceptance-test-config.yml's spec_path, since manifest.yaml sits at the folder's root there.
"""

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "upstream"
CONNECTOR = Path("airbyte-integrations", "connectors", "source-claude")
DOCS = Path("docs", "integrations", "sources")
# The unit test files left out: they test what only the Python package does (the docs' "Where it runs": check, the
# config's sentences, the catalog, the one-thread read), this repository's packaging, or are a property test of
# minutes. Every other file goes, less its tests marked package_only (deselected by unit_tests/pyproject.toml there).
PACKAGE_ONLY_UNIT_TESTS = ("test_check.py", "test_config_validation.py", "test_one_thread_read.py",
                           "test_packaging.py", "test_report_windows_property.py", "test_source.py")
UPSTREAM_UNIT_TESTS = sorted(path.name for path in (ROOT / "unit_tests").glob("test_*.py")
                             if path.name not in PACKAGE_ONLY_UNIT_TESTS)

# (source in this repository, destination under build/upstream/)
FILES = [
    ("source_claude/manifest.yaml", CONNECTOR / "manifest.yaml"),
    ("source_claude/components.py", CONNECTOR / "components.py"),
    ("metadata.yaml", CONNECTOR / "metadata.yaml"),
    ("icon.svg", CONNECTOR / "icon.svg"),
    ("tools/upstream/README.md", CONNECTOR / "README.md"),
    # Named by acceptance-test-config.yml.
    *((f"integration_tests/{name}", CONNECTOR / "integration_tests" / name)
      for name in ("configured_catalog.json", "abnormal_state.json", "sample_config.json")),
    ("tools/upstream/unit_tests/__init__.py", CONNECTOR / "unit_tests" / "__init__.py"),
    ("tools/upstream/unit_tests/pyproject.toml", CONNECTOR / "unit_tests" / "pyproject.toml"),
    *((f"unit_tests/{name}", CONNECTOR / "unit_tests" / name)
      for name in ("conftest.py", "builders.py", *UPSTREAM_UNIT_TESTS)),
    ("docs/claude.md", DOCS / "claude.md"),
    ("docs/claude-migrations.md", DOCS / "claude-migrations.md"),
]


def assemble(build: Path = BUILD) -> Path:
    """Writes the pull request's files under `build` and returns the connector folder."""
    shutil.rmtree(build, ignore_errors=True)
    for source, destination in FILES:
        (build / destination).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / source, build / destination)
    acceptance = (ROOT / "acceptance-test-config.yml").read_text()
    acceptance, edits = re.subn(r"(spec_path: )source_claude/manifest\.yaml", r"\1manifest.yaml", acceptance)
    assert edits == 1, "acceptance-test-config.yml no longer names source_claude/manifest.yaml once"
    (build / CONNECTOR / "acceptance-test-config.yml").write_text(acceptance)
    return build / CONNECTOR


if __name__ == "__main__":
    folder = assemble(Path(sys.argv[1]) if len(sys.argv) > 1 else BUILD)
    print(f"Assembled {folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder} and its docs pages.")
