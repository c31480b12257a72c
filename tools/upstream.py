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
# The unit test files that hold in the manifest-only runtime, less their tests marked package_only. The others test
# what only the Python package does (the docs' "Where it runs": check, the config's sentences, the catalog, the
# one-thread read), this repository's packaging, or are a property test of minutes.
UPSTREAM_UNIT_TESTS = (
    "test_analytics_streams.py", "test_claude_code.py", "test_components.py", "test_cost_report.py",
    "test_directory_streams.py", "test_endless_pages.py", "test_engagement.py", "test_errors.py",
    "test_key_kinds.py", "test_key_never_printed.py", "test_messages_usage.py", "test_messages_usage_hourly.py",
    "test_pagination.py", "test_rate_limits.py", "test_response_bounds.py", "test_rows_outside_the_request.py",
    "test_rows_read_twice.py", "test_spec.py",
)

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
