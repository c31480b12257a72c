import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Collection, Dict, Iterator, List, Mapping, Optional

import requests

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    StreamDescriptor,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_claude import components
from source_claude.components import connection_problem
from source_claude.config_validation import (
    DEFAULT_API_URL,
    ConfigError,
    first_whole_utc_day,
    parse_config_datetime,
    validate_state,
)

# The manifest names its classes as the manifest-only runtime and the Connector Builder load them
# (source_declarative_manifest.components.X); in the package, that module is this one.
sys.modules.setdefault("source_declarative_manifest.components", components)

# An absolute path: given a relative one, the CDK would prefer a stray manifest.yaml in the working directory.
MANIFEST = str(Path(__file__).with_name("manifest.yaml"))
RFC3339 = "%Y-%m-%dT%H:%M:%SZ"
CHECKED_STREAM = "messages_usage"
REACHABILITY_TIMEOUT_SECONDS = 15
# What the CDK says once retries are spent: a prefix before the error handler's message, or for 429s only this.
_CDK_RETRIES_PREFIX = "Exhausted available request attempts. Please see logs for more details. Exception: "
_CDK_RATE_LIMIT_EXHAUSTED = "API rate limit exceeded."
RATE_LIMITED_THROUGHOUT = (
    "The Anthropic Admin API kept rate limiting this key (HTTP 429) through every retry: another tool may be "
    "polling the same organization, or its monthly spend limit may be reached."
)


class SourceClaude(YamlDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        **kwargs: Any,
    ) -> None:
        try:
            state = incremental_stream_states(state or [], catalog)
            validate_state(state)
        except ConfigError as error:
            raise AirbyteTracedException(message=str(error), failure_type=FailureType.config_error) from None
        super().__init__(path_to_yaml=MANIFEST, catalog=catalog, config=config, state=state, **kwargs)

    @classmethod
    def read_state(cls, state_path: str) -> List[AirbyteStateMessage]:
        """The saved state file, also in its legacy form: one object of stream name -> stream state (the CDK's own
        reader refuses it with a schema error that names neither the file nor the fix)."""
        saved = cls._read_json_file(state_path) if state_path else None
        if isinstance(saved, dict):
            return [AirbyteStateMessage(type=AirbyteStateType.LEGACY, data=saved)] if saved else []
        return super().read_state(state_path)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Reads the report over the last whole day only, after making sure api_url answers at all.

        The manifest's CheckStream would read the stream's whole first 31-day window (megabytes for a large
        organization) and, when the host is unreachable, retry for a minute before a message full of
        urllib3 internals; this says what is wrong in one sentence, in seconds.
        """
        unreachable = unreachable_api_url(self._config.get("api_url") or DEFAULT_API_URL)
        if unreachable:
            return AirbyteConnectionStatus(status=Status.FAILED, message=unreachable)
        now = datetime.now(timezone.utc)
        probe = SourceClaude(config=last_day_probe_config(self._config, now))
        streams = {stream.name: stream for stream in probe.streams(config=probe._config)}
        availability = streams[CHECKED_STREAM].check_availability()
        if not availability.is_available:
            return AirbyteConnectionStatus(status=Status.FAILED, message=availability.reason)
        waiting = nothing_to_read_yet(self._config, now)
        if waiting:
            logger.warning(waiting)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=waiting)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        """The CDK's read, refusing a catalog that names streams this source lacks, and ending a failed sync
        with one paragraph that says what failed and what the next sync does, instead of the CDK's summary
        of exception reprs. (The CDK reads nothing and exits 0 for an unknown stream.)"""
        known = [stream["name"] for stream in self.resolved_manifest["streams"]]
        unknown = sorted({configured.stream.name for configured in catalog.streams} - set(known))
        if unknown:
            raise AirbyteTracedException(
                message=(f"The catalog asks for {', '.join(unknown)}, which this source does not have "
                         f"(it has {', '.join(known)}): refresh the source schema, or fix the configured catalog."),
                failure_type=FailureType.config_error,
            )
        stream_errors: Dict[str, Any] = {}
        try:
            for message in super().read(logger, config, catalog, state):
                if message.type == Type.TRACE and message.trace.type == TraceType.ERROR:
                    descriptor = message.trace.error.stream_descriptor
                    stream_errors.setdefault(descriptor.name if descriptor else "source", message.trace.error)
                yield message
        except AirbyteTracedException as failure:
            if not stream_errors:
                raise
            full_refresh = {configured.stream.name for configured in catalog.streams
                            if configured.sync_mode == SyncMode.full_refresh}
            raise incomplete_sync(stream_errors, failure, full_refresh) from None


def incremental_stream_states(state_messages: List[AirbyteStateMessage],
                              catalog: Optional[ConfiguredAirbyteCatalog]) -> List[AirbyteStateMessage]:
    """The saved state as the per-stream messages the CDK reads, for the streams the catalog reads incrementally.

    GLOBAL and LEGACY states, which this connector never writes, are split into their streams' states: the CDK fails
    on a GLOBAL one that has a shared state (with a traceback, no message) and ignores a LEGACY one. A stream read in
    full refresh starts from nothing, as full refresh means: the CDK would resume it from its saved cursor.
    """
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
                    raise ConfigError(
                        f"The saved state gives {name} the state {stream_state!r}, which is not an object like "
                        '{"starting_at": "2025-01-31T00:00:00Z"}: reset this stream (or drop it from the state) to '
                        "read it again from start_date."
                    )
                streams.append(AirbyteStreamState(stream_descriptor=StreamDescriptor(name=name),
                                                  stream_state=AirbyteStateBlob(stream_state)))
    return [AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=stream)
            for stream in streams if stream.stream_descriptor.name not in full_refresh]


def incomplete_sync(stream_errors: Mapping[str, Any], failure: AirbyteTracedException,
                    full_refresh: Collection[str] = frozenset()) -> AirbyteTracedException:
    """The failed sync's last message: what failed, and what the next sync does about it (an incremental stream
    resumes from its saved state; one read in full refresh is read again in full)."""
    failed = [stream for stream in stream_errors if stream != "source"]
    read_again = [stream for stream in failed if stream in full_refresh]
    resumed = not failed or len(read_again) < len(failed)
    reasons = " ".join(f"{stream}: {user_message(error.message)}" for stream, error in stream_errors.items())
    failure_types = {error.failure_type for error in stream_errors.values()}
    failure_type = (
        FailureType.config_error if FailureType.config_error in failure_types
        else FailureType.transient_error if failure_types == {FailureType.transient_error}
        else FailureType.system_error
    )
    if read_again and not resumed:
        next_sync = f"Once the cause is fixed, the next sync reads {', '.join(read_again)} again in full."
    elif read_again:
        next_sync = ("Every record up to each incremental stream's last saved state was delivered; once the cause is "
                     f"fixed, the next sync resumes those from there and reads {', '.join(read_again)} again in full.")
    else:
        next_sync = ("Every record up to each stream's last saved state was delivered; once the cause is fixed, the "
                     "next sync resumes from there.")
    return AirbyteTracedException(
        message=f"The sync stopped before reading everything. {reasons} {next_sync}",
        internal_message=failure.internal_message or failure.message,
        failure_type=failure_type,
    )


def user_message(cdk_message: Optional[str]) -> str:
    message = (cdk_message or "").removeprefix(_CDK_RETRIES_PREFIX)
    return RATE_LIMITED_THROUGHOUT if message == _CDK_RATE_LIMIT_EXHAUSTED else message


def unreachable_api_url(api_url: str) -> Optional[str]:
    """A sentence saying why api_url cannot be reached, or None if it answers HTTP at all (proxies honoured)."""
    try:
        requests.head(api_url, timeout=REACHABILITY_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.exceptions.RequestException as error:
        return connection_problem(api_url, error)
    return None


def last_day_probe_config(config: Mapping[str, Any], now: datetime) -> Mapping[str, Any]:
    """The config narrowed to the last whole UTC day of the configured range.

    While the range holds no whole day yet (start_date is today), that is the day before start_date: the request
    still tests the key, and check delivers nothing it reads.
    """
    configured_end = parse_config_datetime(config.get("end_date"), "end_date")
    end = min(configured_end, now) if configured_end else now
    last_day = end.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    return {**config, "start_date": last_day.strftime(RFC3339), "end_date": end.strftime(RFC3339)}


def nothing_to_read_yet(config: Mapping[str, Any], now: datetime) -> Optional[str]:
    """What a sync cannot read yet, in one sentence, while no whole UTC day from start_date has ended; else None."""
    first_day = first_whole_utc_day(parse_config_datetime(config["start_date"], "start_date"))
    first_day_end = first_day + timedelta(days=1)
    if first_day_end <= now:
        return None
    return (f"The Admin API key works, but there is nothing to read yet: the first whole UTC day from start_date, "
            f"{first_day:%Y-%m-%d}, ends at {first_day_end.strftime(RFC3339)}, and until then a sync reads no daily "
            "usage or cost (messages_usage_hourly reads each hour once it has ended, and the Claude Code streams read "
            "today as far as the API has it).")
