import logging
from datetime import datetime, timedelta, timezone
from typing import Any, List, Mapping, Optional

import requests

from airbyte_cdk.models import AirbyteConnectionStatus, AirbyteStateMessage, ConfiguredAirbyteCatalog, Status
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

from source_claude.config_validation import DEFAULT_API_URL, first_whole_utc_day, parse_config_datetime

RFC3339 = "%Y-%m-%dT%H:%M:%SZ"
CHECKED_STREAM = "messages_usage"
REACHABILITY_TIMEOUT_SECONDS = 15


class SourceClaude(YamlDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(path_to_yaml="manifest.yaml", catalog=catalog, config=config, state=state, **kwargs)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Reads the report over the last whole day only, after making sure api_url answers at all.

        The manifest's CheckStream would read the stream's whole first 31-day window (megabytes for a large
        organization) and, when the host is unreachable, retry for a minute before a message full of
        urllib3 internals; this says what is wrong in one sentence, in seconds.
        """
        unreachable = unreachable_api_url(self._config.get("api_url") or DEFAULT_API_URL)
        if unreachable:
            return AirbyteConnectionStatus(status=Status.FAILED, message=unreachable)
        probe = SourceClaude(config=last_day_probe_config(self._config, datetime.now(timezone.utc)))
        streams = {stream.name: stream for stream in probe.streams(config=probe._config)}
        availability = streams[CHECKED_STREAM].check_availability()
        if availability.is_available:
            return AirbyteConnectionStatus(status=Status.SUCCEEDED)
        return AirbyteConnectionStatus(status=Status.FAILED, message=availability.reason)


def unreachable_api_url(api_url: str) -> Optional[str]:
    """A sentence saying why api_url cannot be reached, or None if it answers HTTP at all (proxies honoured)."""
    try:
        requests.head(api_url, timeout=REACHABILITY_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.exceptions.Timeout:
        return (f"{api_url} did not answer within {REACHABILITY_TIMEOUT_SECONDS} s: check api_url, and that this "
                "machine may make outbound HTTPS requests to it (firewall, proxy).")
    except requests.exceptions.RequestException as error:
        reason = type(error).__name__
        return (f"Could not connect to {api_url} ({reason}): check api_url, and that this machine may make "
                "outbound HTTPS requests to it (DNS, firewall, proxy).")
    return None


def last_day_probe_config(config: Mapping[str, Any], now: datetime) -> Mapping[str, Any]:
    """The config narrowed to the last whole UTC day inside the configured range (never before start_date)."""
    configured_end = parse_config_datetime(config.get("end_date"), "end_date")
    end = min(configured_end, now) if configured_end else now
    start = first_whole_utc_day(parse_config_datetime(config["start_date"], "start_date"))
    last_day = end.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    return {**config, "start_date": max(start, last_day).strftime(RFC3339), "end_date": end.strftime(RFC3339)}
