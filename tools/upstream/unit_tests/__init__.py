"""The connector as Airbyte's manifest-only image runs it, under the names the tests import.

The tests were written against this connector's Python package (`source_claude`), which does not exist here: the
connector is this folder's manifest.yaml and components.py. Importing this package (pytest does, before any test or
conftest in it) registers components.py as `source_declarative_manifest.components`, the name the manifest gives its
classes, and `source_claude` as a YamlDeclarativeSource of manifest.yaml, as the image's `SourceLocalYaml` builds it.
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

CONNECTOR = Path(__file__).resolve().parent.parent
MANIFEST = str(CONNECTOR / "manifest.yaml")


def _load_components() -> ModuleType:
    spec = importlib.util.spec_from_file_location("source_declarative_manifest.components", CONNECTOR / "components.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as the image does: its dataclasses look their module up while being defined.
    sys.modules["source_declarative_manifest.components"] = sys.modules["components"] = module
    spec.loader.exec_module(module)
    return module


class SourceClaude(YamlDeclarativeSource):
    def __init__(self, catalog: Any = None, config: Any = None, state: Any = None, **kwargs: Any) -> None:
        super().__init__(path_to_yaml=MANIFEST, catalog=catalog, config=config, state=state, **kwargs)


def _module(name: str, **members: Any) -> ModuleType:
    module = ModuleType(name)
    module.__dict__.update(members)
    sys.modules[name] = module
    return module


components = _load_components()
_module("source_claude", __path__=[], SourceClaude=SourceClaude, components=components,
        source=_module("source_claude.source", MANIFEST=MANIFEST, SourceClaude=SourceClaude))
sys.modules["source_claude.components"] = components
