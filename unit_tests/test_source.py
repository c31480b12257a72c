"""The package's source builds only the streams a read's catalog names (each costs about 20 ms of CPU to build);
without a catalog (check, discover, the manifest-only runtime's own source) it builds every stream."""

from airbyte_cdk.models import SyncMode

from source_claude import SourceClaude
from unit_tests.builders import catalog, config


def test_a_read_builds_only_the_streams_its_catalog_names() -> None:
    source = SourceClaude(catalog=catalog("organization", SyncMode.full_refresh), config=config())

    assert [stream.name for stream in source.streams(config())] == ["organization"]


def test_without_a_catalog_every_stream_of_the_manifest_is_built() -> None:
    source = SourceClaude(config=config())

    assert [stream.name for stream in source.streams(config())] == [
        stream["name"] for stream in source.resolved_manifest["streams"]]
    assert len(source.resolved_manifest["streams"]) == 22
