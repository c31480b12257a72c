# The manifest as a Python package (the source-claude command, the Docker image, PyAirbyte): only what a source built
# from a config, catalog and state can do before the CDK reads; the rest runs in every runtime ("Where it runs").
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import requests

from airbyte_cdk.models import (AirbyteConnectionStatus, AirbyteStateBlob, AirbyteStateMessage, AirbyteStateType,
                                AirbyteStreamState, ConfiguredAirbyteCatalog, Status, StreamDescriptor, SyncMode)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

from source_claude import components
from source_claude.components import (DEFAULT_API_URL, config_error, connection_problem, nothing_to_read_yet,
                                      what_the_key_reads, whole_config_rules)
from source_claude.one_thread_read import read_on_one_thread

# The manifest names its classes as the other runtimes load them; in the package, that module is this one.
sys.modules.setdefault("source_declarative_manifest.components", components)

# An absolute path: given a relative one, the CDK would prefer a stray manifest.yaml in the working directory.
MANIFEST = str(Path(__file__).with_name("manifest.yaml"))


class SourceClaude(YamlDeclarativeSource):
    """Refuses, before anything is read, a config or saved state the manifest's rules refuse and a catalog naming
    streams the manifest lacks; splits the saved state into the per-stream states the CDK reads."""

    def __init__(self, catalog: Optional[ConfiguredAirbyteCatalog] = None, config: Optional[Mapping[str, Any]] = None,
                 state: Optional[List[AirbyteStateMessage]] = None, **kwargs: Any) -> None:
        self._selected = {configured.stream.name for configured in catalog.streams} if catalog else None
        super().__init__(path_to_yaml=MANIFEST, catalog=catalog, config=config,
                         state=incremental_stream_states(state or [], catalog), **kwargs)
        read_on_one_thread(self)
        known = [stream["name"] for stream in self.resolved_manifest["streams"]]
        unknown = sorted({configured.stream.name for configured in (catalog.streams if catalog else [])} - set(known))
        if unknown:  # the CDK would read nothing of them, and exit 0
            raise config_error(f"The catalog asks for {', '.join(unknown)}, which this source does not have (it has "
                               f"{', '.join(known)}): refresh the source schema, or fix the configured catalog.")
        if config:
            whole_config_rules(self._config)  # as the manifest's transformations left it: a 0.0.x config too
            # Runs the manifest's config rules and state migrations, which would fail inside the CDK's read otherwise.
            self._unused_streams = self.streams(config)

    def streams(self, config: Mapping[str, Any]) -> List[Any]:
        """The streams __init__ built, the first time: building them again was a tenth of a command's CPU."""
        built, self._unused_streams = getattr(self, "_unused_streams", None), None
        return built or super().streams(config)

    def _stream_configs(self, *args: Any, **kwargs: Any) -> List[Dict[str, Any]]:
        """The CDK's (private) stream definitions, only the catalog's: each costs ~20 ms to build (test_source.py)."""
        configs = super()._stream_configs(*args, **kwargs)  # type: ignore[misc]
        return [c for c in configs if c.get("name") in self._selected] if self._selected else configs

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        """The CDK's configure, without writing the config (key and all) to temp_dir: see claim_run_directory."""
        components.claim_run_directory(temp_dir)
        return self._config or config

    @classmethod
    def read_state(cls, state_path: str) -> List[AirbyteStateMessage]:
        """The saved state, also in its legacy form {stream: state}, which the CDK refuses naming no file or fix."""
        saved = cls._read_json_file(state_path) if state_path else None
        if isinstance(saved, dict):
            return [AirbyteStateMessage(type=AirbyteStateType.LEGACY, data=saved)] if saved else []
        return super().read_state(state_path)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """The manifest's check once api_url answers at all (the CDK retries an unreachable host for a minute), failing
        in the stream's own sentence; it says which streams a sync skips, and when a whole day is there to read."""
        unreachable = unreachable_api_url(config.get("api_url") or DEFAULT_API_URL)
        if unreachable:
            return AirbyteConnectionStatus(status=Status.FAILED, message=unreachable)
        check = self.resolved_manifest["check"]
        for stream in SourceClaude(config={**config, **check.get("config_overrides", {})}).streams(config):
            availability = stream.check_availability() if stream.name in check["stream_names"] else None
            if availability and not availability.is_available:
                return AirbyteConnectionStatus(status=Status.FAILED, message=availability.reason)
        waiting = nothing_to_read_yet(config, datetime.now(timezone.utc))
        if waiting:
            logger.warning(waiting)
        message = " ".join(filter(None, (what_the_key_reads(config, self.resolved_manifest["streams"]), waiting)))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=message or None)


def incremental_stream_states(state_messages: List[AirbyteStateMessage],
                              catalog: Optional[ConfiguredAirbyteCatalog]) -> List[AirbyteStateMessage]:
    """The saved state as per-stream messages for the streams read incrementally: GLOBAL and LEGACY states (never
    written here; the CDK fails on the one and ignores the other) split into their streams' states."""
    full_refresh = {configured.stream.name for configured in (catalog.streams if catalog else [])
                    if configured.sync_mode == SyncMode.full_refresh}
    streams: List[AirbyteStreamState] = []
    for message in state_messages:
        if message.type == AirbyteStateType.GLOBAL and message.global_ is not None:
            streams += message.global_.stream_states or []
        elif message.stream is not None:
            streams.append(message.stream)
        elif message.data is not None:
            for name, stream_state in message.data.items():
                if not isinstance(stream_state, Mapping):
                    raise config_error(
                        f"The saved state gives {name} the state {stream_state!r}, which is not an object like "
                        '{"starting_at": "2025-01-31T00:00:00Z"}: reset this stream (or drop it from the state) to '
                        "read it again from start_date.")
                streams.append(AirbyteStreamState(stream_descriptor=StreamDescriptor(name=name),
                                                  stream_state=AirbyteStateBlob(stream_state)))
    return [AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=stream)
            for stream in streams if stream.stream_descriptor.name not in full_refresh]


def unreachable_api_url(api_url: str) -> Optional[str]:
    """A sentence saying why api_url cannot be reached, or None if it answers HTTP at all (proxies honoured)."""
    try:
        requests.head(api_url, timeout=15, allow_redirects=False)
    except requests.exceptions.RequestException as error:
        return connection_problem(api_url, error)
    return None
