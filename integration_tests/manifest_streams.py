"""The streams as manifest.yaml declares them, resolved as the CDK resolves it: the one place a test takes "every
stream" (or every stream of a kind) from, so a new stream is in each such test without editing it. Tests that pin
what users rely on (test_end_to_end's CONTRACT) or read a purposeful few name their streams instead."""

from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

import yaml
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

MANIFEST = Path(__file__).resolve().parent.parent / "source_claude" / "manifest.yaml"


def declared_streams() -> List[Mapping[str, Any]]:
    manifest = ManifestReferenceResolver().preprocess_manifest(yaml.safe_load(MANIFEST.read_text()))
    return ManifestComponentTransformer().propagate_types_and_parameters("", manifest, {})["streams"]


_STREAMS = declared_streams()
# In the manifest's order, which is discover's.
EVERY_STREAM: Tuple[str, ...] = tuple(stream["name"] for stream in _STREAMS)
# The streams with a cursor (the reports), and the ones read whole every sync (the organization's directory and
# rate limits).
INCREMENTAL: Tuple[str, ...] = tuple(stream["name"] for stream in _STREAMS if stream.get("incremental_sync"))
FULL_REFRESH_ONLY: Tuple[str, ...] = tuple(stream["name"] for stream in _STREAMS if not stream.get("incremental_sync"))
PRIMARY_KEYS: Dict[str, Tuple[str, ...]] = {stream["name"]: tuple(stream["primary_key"]) for stream in _STREAMS}
# The API each stream reads (its retriever's reads_api, the Admin API when absent), and the streams an Admin key
# reads: all but the Claude Enterprise engagement streams, which only an Analytics key reads.
READS_API: Dict[str, str] = {stream["name"]: stream["retriever"].get("reads_api", "admin") for stream in _STREAMS}
ADMIN_KEY_STREAMS: Tuple[str, ...] = tuple(name for name in EVERY_STREAM if READS_API[name] != "engagement")
