#
# Checks a user's config and says, in one sentence, what is wrong and how to fix it.
#
# The spec's JSON schema already guards the UI, but its messages ("32 is greater than the maximum of
# 31") name neither the field nor the fix, so the CLI runs these checks first.
#
import ipaddress
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from dateutil.parser import isoparse

ADMIN_KEYS_URL = "https://console.anthropic.com/settings/admin-keys"
DEFAULT_API_URL = "https://api.anthropic.com"
MAX_LOOKBACK_DAYS = 31
# One window of hourly buckets: a longer lookback would cost every incremental sync another request.
MAX_HOURLY_LOOKBACK_HOURS = 168
MAX_REQUESTS_PER_MINUTE = 6000

_DATE_OR_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?)?$"
)


class ConfigError(ValueError):
    """A config the connector cannot run with; its message is the sentence shown to the user."""


def validate_config(config: Mapping[str, Any], now: Optional[datetime] = None) -> None:
    """Raises ConfigError with one actionable sentence for the first problem found."""
    now = now or datetime.now(timezone.utc)
    _validate_admin_api_key(config.get("admin_api_key"))
    start = parse_config_datetime(config.get("start_date"), "start_date")
    if start is None:
        raise ConfigError(
            "start_date is missing: set it to the first UTC day to replicate, for example 2025-01-01."
        )
    if start > now:
        raise ConfigError(
            f"start_date {config['start_date']} is in the future, so there is nothing to read yet: "
            "set it to a past UTC date, for example the day your organization started using the API."
        )
    first_day = first_whole_utc_day(start)
    if first_day > now:
        raise ConfigError(
            f"start_date {config['start_date']} leaves no whole UTC day to read yet: reading starts at the first "
            f"midnight UTC at or after it ({first_day:%Y-%m-%dT%H:%M:%SZ}), so set start_date to a date."
        )
    end = parse_config_datetime(config.get("end_date"), "end_date")
    if end is not None and end <= first_day:
        raise ConfigError(
            f"end_date {config['end_date']} is not after start_date {config['start_date']}: "
            "set end_date later than start_date, or leave it empty to read up to now."
        )
    if end is not None and end < first_day + timedelta(days=1):
        raise ConfigError(
            f"end_date {config['end_date']} leaves no whole UTC day after start_date {config['start_date']}, so "
            f"there would be nothing to read: set end_date to {first_day + timedelta(days=1):%Y-%m-%d} or later."
        )
    _validate_lookback(config.get("lookback_window_days"), "lookback_window_days", "3")
    _validate_lookback(config.get("claude_code_lookback_window_days"), "claude_code_lookback_window_days", "4")
    _validate_hourly_start_date(config, start, end, now)
    _validate_hourly_lookback(config.get("hourly_lookback_window_hours"))
    _validate_requests_per_minute(config.get("max_requests_per_minute"))
    _validate_api_url(config.get("api_url"))


def parse_config_datetime(value: Any, key: str) -> Optional[datetime]:
    """A config date or date-time as an aware UTC datetime; a date means midnight UTC; no offset means UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE_OR_DATETIME.match(value):
        raise ConfigError(
            f"{key} {value!r} is not a date: use a UTC date like 2025-01-01 "
            "or an RFC 3339 date-time like 2025-01-01T00:00:00Z."
        )
    try:
        parsed = isoparse(value)
    except ValueError:
        raise ConfigError(
            f"{key} {value!r} is not a real calendar date: check the month and day, for example 2025-01-31."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def first_whole_utc_day(moment: datetime) -> datetime:
    """The first midnight UTC at or after `moment`: where reading starts, so no data before start_date is asked for."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + timedelta(days=1)


def first_whole_utc_hour(moment: datetime) -> datetime:
    """The first whole hour UTC at or after `moment`: where messages_usage_hourly starts reading."""
    hour = moment.replace(minute=0, second=0, microsecond=0)
    return hour if hour == moment else hour + timedelta(hours=1)


def _validate_admin_api_key(key: Any) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ConfigError(
            "admin_api_key is missing: create an Admin key (sk-ant-admin...) in the Claude Console "
            f"under Settings > Admin keys ({ADMIN_KEYS_URL}) and paste it in."
        )
    if key != key.strip():
        raise ConfigError(
            "admin_api_key has spaces or line breaks around it: paste the key again without them."
        )
    if key.startswith("sk-ant-api"):
        raise ConfigError(
            "admin_api_key is a regular API key (sk-ant-api...), which cannot read usage or cost reports: "
            f"create an Admin key (sk-ant-admin...) under Settings > Admin keys ({ADMIN_KEYS_URL})."
        )


def _validate_lookback(lookback: Any, key: str, default: str) -> None:
    if lookback is None:
        return
    if isinstance(lookback, bool) or not isinstance(lookback, int) or not 0 <= lookback <= MAX_LOOKBACK_DAYS:
        raise ConfigError(
            f"{key} must be a whole number of days from 0 to {MAX_LOOKBACK_DAYS}, not {lookback!r}: "
            f"the default, {default}, suits most organizations."
        )


def _validate_hourly_start_date(config: Mapping[str, Any], start: datetime, end: Optional[datetime],
                                now: datetime) -> None:
    hourly_start = parse_config_datetime(config.get("hourly_start_date"), "hourly_start_date")
    if hourly_start is None:
        return
    value = config["hourly_start_date"]
    if hourly_start < start:
        raise ConfigError(
            f"hourly_start_date {value} is before start_date {config['start_date']}, and nothing before start_date is "
            "read: set hourly_start_date on or after start_date, or leave it empty to read the last 30 days."
        )
    first_hour = first_whole_utc_hour(hourly_start)
    if first_hour > now:
        raise ConfigError(
            f"hourly_start_date {value} leaves no whole UTC hour to read yet (reading starts at "
            f"{first_hour:%Y-%m-%dT%H:%M:%SZ}): set it to a past hour, or leave it empty to read the last 30 days."
        )
    if end is not None and end < first_hour + timedelta(hours=1):
        raise ConfigError(
            f"hourly_start_date {value} leaves no whole UTC hour before end_date {config['end_date']}, so "
            "messages_usage_hourly would read nothing: set hourly_start_date earlier, or leave it empty."
        )


def _validate_hourly_lookback(lookback: Any) -> None:
    if lookback is None:
        return
    if isinstance(lookback, bool) or not isinstance(lookback, int) or not 0 <= lookback <= MAX_HOURLY_LOOKBACK_HOURS:
        raise ConfigError(
            f"hourly_lookback_window_hours must be a whole number of hours from 0 to {MAX_HOURLY_LOOKBACK_HOURS}, "
            f"not {lookback!r}: the default, 24, suits most organizations."
        )


def _validate_requests_per_minute(rate: Any) -> None:
    if rate is None:
        return
    if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= MAX_REQUESTS_PER_MINUTE:
        raise ConfigError(
            f"max_requests_per_minute must be a whole number from 1 to {MAX_REQUESTS_PER_MINUTE}, not {rate!r}: "
            "leave it empty to pace only by the limit the API names."
        )


def _validate_api_url(api_url: Any) -> None:
    if api_url is None or api_url == "":
        return
    parts = urlsplit(api_url) if isinstance(api_url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"api_url {api_url!r} is not a URL: leave it empty to use {DEFAULT_API_URL}, "
            "or give the https:// address of your proxy."
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"api_url {api_url!r} is not https: the Admin key must only travel encrypted, "
            "so use an https:// address (plain http is accepted only for localhost)."
        )


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def validate_state(state_messages: Any) -> None:
    """Refuses a saved state whose cursor is not a timestamp, which the CDK would report as an internal error."""
    for message in state_messages:
        stream = getattr(message, "stream", None)
        if stream is None or stream.stream_state is None:
            continue
        name = stream.stream_descriptor.name
        blob = vars(stream.stream_state) if not isinstance(stream.stream_state, dict) else stream.stream_state
        value = blob.get("starting_at")
        if value is None or "state_type" in blob:
            continue  # no cursor yet, or the CDK's own concurrent state format
        if not isinstance(value, str) or not _STATE_TIMESTAMP.match(value) or not _parses(value):
            raise ConfigError(
                f"The saved state of {name} has starting_at {value!r}, which is not a UTC timestamp like "
                "2025-01-31T00:00:00Z: reset this stream (or drop it from the state) to read it again from start_date."
            )


_STATE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def _parses(value: str) -> bool:
    try:
        isoparse(value)
    except ValueError:
        return False
    return True
