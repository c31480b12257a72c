import logging
from datetime import datetime, timedelta, timezone
from typing import Any, List, Mapping, Optional

from airbyte_cdk.models import AirbyteConnectionStatus, AirbyteStateMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

from source_claude.config_validation import first_whole_utc_day, parse_config_datetime

RFC3339 = "%Y-%m-%dT%H:%M:%SZ"


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
        """Runs the manifest's CheckStream over the last whole day only.

        Left alone, CheckStream reads the stream's first 31-day window, which for a large organization is
        megabytes; one day of buckets proves the key can read the reports just as well.
        """
        probe = SourceClaude(config=last_day_probe_config(self._config, datetime.now(timezone.utc)))
        return ConcurrentDeclarativeSource.check(probe, logger, probe._config)


def last_day_probe_config(config: Mapping[str, Any], now: datetime) -> Mapping[str, Any]:
    """The config narrowed to the last whole UTC day inside the configured range (never before start_date)."""
    configured_end = parse_config_datetime(config.get("end_date"), "end_date")
    end = min(configured_end, now) if configured_end else now
    start = first_whole_utc_day(parse_config_datetime(config["start_date"], "start_date"))
    last_day = end.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    return {**config, "start_date": max(start, last_day).strftime(RFC3339), "end_date": end.strftime(RFC3339)}
