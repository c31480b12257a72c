"""Every config mistake gets one sentence that says what is wrong and how to fix it, as a config error, when the
source is built: the manifest's config rules (one per field) and the package's whole-config rules."""

from pathlib import Path

import freezegun
import pytest
import yaml

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_claude import SourceClaude
from source_claude.source import MANIFEST
from unit_tests.builders import config

NOW = "2025-03-10T12:00:00Z"


def validate_config(user_config) -> None:
    with freezegun.freeze_time(NOW):
        SourceClaude(config=user_config)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"admin_api_key": None}, "admin_api_key is missing: create an Admin key (sk-ant-admin...)"),
        ({"admin_api_key": ""}, "admin_api_key is missing"),
        ({"admin_api_key": "   "}, "admin_api_key is missing"),
        ({"admin_api_key": " sk-ant-admin01-abc\n"}, "spaces or line breaks around it: paste the key again"),
        ({"start_date": None}, "start_date is missing: set it to the first UTC day"),
        ({"start_date": "2025/01/01"}, "start_date '2025/01/01' is not a date: use a UTC date like 2025-01-01"),
        ({"start_date": "yesterday"}, "start_date 'yesterday' is not a date"),
        ({"start_date": "2025-02-30"}, "start_date '2025-02-30' is not a real calendar date"),
        ({"start_date": "2025-03-11"}, "start_date 2025-03-11 is in the future"),
        ({"start_date": "2025-03-10T12:00:01Z"}, "is in the future"),
        ({"start_date": "2025-03-09T23:00:00-02:00"}, "leaves no whole UTC day to read yet: reading starts at the "
                                                      "first midnight UTC at or after it (2025-03-11T00:00:00Z)"),
        ({"end_date": "2024-12-31"}, "end_date 2024-12-31 is not after start_date 2025-01-01"),
        ({"end_date": "2025-01-01"}, "end_date 2025-01-01 is not after start_date"),
        ({"end_date": "2025-01-01T06:00:00Z"}, "end_date 2025-01-01T06:00:00Z leaves no whole UTC day after "
                                               "start_date 2025-01-01, so there would be nothing to read: set "
                                               "end_date to 2025-01-02 or later"),
        ({"end_date": "01/02/2025"}, "end_date '01/02/2025' is not a date"),
        ({"lookback_window_days": 32}, "lookback_window_days must be a whole number of days from 0 to 31, not 32"),
        ({"lookback_window_days": -1}, "not -1"),
        ({"lookback_window_days": "3"}, "not '3'"),
        ({"lookback_window_days": True}, "not True"),
        ({"claude_code_lookback_window_days": 40}, "claude_code_lookback_window_days must be a whole number of days"),
        ({"engagement_lookback_window_days": 32}, "engagement_lookback_window_days must be a whole number of days from "
                                                 "0 to 31, not 32"),
        ({"hourly_lookback_window_hours": 169}, "hourly_lookback_window_hours must be a whole number of hours from 0 "
                                                "to 168, not 169: leave it empty to re-read every day "
                                                "lookback_window_days re-reads"),
        ({"hourly_lookback_window_hours": -1}, "not -1"),
        ({"hourly_lookback_window_hours": "24"}, "not '24'"),
        ({"hourly_lookback_window_hours": 1.5}, "not 1.5"),
        ({"hourly_lookback_window_hours": False}, "not False"),
        ({"hourly_start_date": "2025/03/01"}, "hourly_start_date '2025/03/01' is not a date: use a UTC date like"),
        ({"hourly_start_date": "2025-02-30"}, "hourly_start_date '2025-02-30' is not a real calendar date"),
        ({"hourly_start_date": "2024-12-31T23:00:00Z"}, "hourly_start_date 2024-12-31T23:00:00Z is before start_date "
                                                        "2025-01-01, and nothing before start_date is read: set "
                                                        "hourly_start_date on or after start_date"),
        ({"hourly_start_date": "2025-03-10T12:00:01Z"}, "hourly_start_date 2025-03-10T12:00:01Z leaves no whole UTC "
                                                        "hour to read yet (reading starts at 2025-03-10T13:00:00Z)"),
        ({"hourly_start_date": "2025-03-11"}, "leaves no whole UTC hour to read yet"),
        ({"hourly_start_date": "2025-02-01T10:30:00Z", "end_date": "2025-02-01T11:59:59Z"},
         "hourly_start_date 2025-02-01T10:30:00Z leaves no whole UTC hour before end_date 2025-02-01T11:59:59Z"),
        ({"analytics_lookback_window_days": 32}, "analytics_lookback_window_days must be a whole number of days "
                                                 "from 0 to 31, not 32: the default, 30, suits most organizations"),
        ({"analytics_lookback_window_days": "30"}, "not '30'"),
        ({"analytics_group_by": ["api_key_id", "description"]}, "analytics_group_by has 'description', which the Usage "
                                                               "and Cost Analytics API cannot group by: use some of"),
        ({"analytics_group_by": ["model", "model"]}, "analytics_group_by names a dimension twice"),
        ({"analytics_group_by": "model"}, "analytics_group_by must be a list of dimension names, not 'model'"),
        ({"analytics_group_by": ["model", 3]}, "must be a list of dimension names"),
        ({"max_requests_per_minute": 0}, "max_requests_per_minute must be a whole number from 1 to 6000, not 0"),
        ({"max_requests_per_minute": 2.5}, "not 2.5"),
        ({"max_requests_per_minute": "30"}, "not '30'"),
        ({"api_url": "http://api.anthropic.com"}, "is not https: the Admin key must only travel encrypted"),
        ({"api_url": "http://10.0.0.5:8080"}, "is not https"),
        ({"api_url": "ftp://example.com"}, "is not a URL: leave it empty to use https://api.anthropic.com"),
        ({"api_url": "api.anthropic.com"}, "is not a URL"),
        ({"api_url": " https://api.anthropic.com\n"}, "api_url ' https://api.anthropic.com\\n' has spaces or line "
                                                      "breaks around it: remove them."),
        ({"start_date": "0001-01-01"}, "start_date 0001-01-01 is before 2000-01-01, long before the Anthropic API "
                                       "existed: set it to the first UTC day your organization used the API"),
        ({"end_date": "1999-12-31T23:59:59Z"}, "end_date 1999-12-31T23:59:59Z is before 2000-01-01"),
        ({"end_date": "9999-12-31"}, "end_date 9999-12-31 is after 2100-01-01, later than any data can be"),
        ({"hourly_start_date": "9999-12-31T23:30:00Z"}, "hourly_start_date 9999-12-31T23:30:00Z is after 2100-01-01"),
    ],
)
def test_each_mistake_gets_its_sentence(overrides, expected) -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        validate_config({name: value for name, value in config(**overrides).items() if value is not None})
    assert expected in raised.value.message
    assert raised.value.failure_type == FailureType.config_error


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"start_date": "2025-03-10"},  # today: a valid start, today's bucket is read once it ends
        {"start_date": "2025-03-09T20:00:00-02:00"},
        {"start_date": "2024-06-01T00:00:00.123Z", "end_date": "2024-07-01"},
        {"end_date": "2025-01-02"},  # one whole day
        {"end_date": "2099-01-01"},  # a future end is read as now
        {"lookback_window_days": 0},
        {"lookback_window_days": 31},
        {"hourly_lookback_window_hours": 0},
        {"hourly_lookback_window_hours": 168},
        {"hourly_start_date": "2025-01-01"},  # start_date itself
        {"hourly_start_date": "2025-03-10T12:00:00Z"},  # this hour: read once it ends
        {"hourly_start_date": "2025-03-10T13:00:00+02:00"},  # 11:00 UTC
        {"hourly_start_date": "2025-02-01T10:30:00Z", "end_date": "2025-02-01T12:00:00Z"},  # one whole hour
        {"analytics_lookback_window_days": 0},
        {"analytics_lookback_window_days": 31},
        {"analytics_group_by": []},  # the default grouping
        {"analytics_group_by": ["actor", "cost_type", "token_type", "workspace_id"]},
        {"max_requests_per_minute": 1},
        {"max_requests_per_minute": 6000},
        {"api_url": "https://proxy.example.com/anthropic"},
        {"api_url": "http://127.0.0.1:8765"},
        {"api_url": "http://localhost:8765"},
        {"api_url": "http://[::1]:8765"},
    ],
)
def test_valid_configs_pass(overrides) -> None:
    validate_config(config(**overrides))


def test_messages_never_contain_the_key() -> None:
    key = " sk-ant-admin01-SECRET-VALUE"
    with pytest.raises(AirbyteTracedException) as raised:
        validate_config(config(admin_api_key=key))
    assert "spaces or line breaks around it" in raised.value.message
    assert key.strip() not in raised.value.message and "SECRET" not in raised.value.message


@pytest.mark.parametrize("api_url", ["https://finance:hunter2@proxy.example.com", "finance:hunter2@proxy.example.com",
                                     "http://finance:hunter2@127.0.0.1:8080", "https://hunter2@proxy.example.com"])
def test_credentials_in_api_url_are_refused_without_being_repeated(api_url) -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        validate_config(config(api_url=api_url))
    assert raised.value.message.startswith("api_url has a user name or password in it (the part before an @)")
    assert raised.value.failure_type == FailureType.config_error
    assert "hunter2" not in f"{raised.value.message} {raised.value.internal_message}"


@pytest.mark.parametrize("key", ["sk-ant-admin01-abc", "sk-ant-api01-enterprise-analytics-key", "sk-ant-api03-abc"])
def test_no_key_format_is_refused_before_the_api_is_asked(key) -> None:
    """A Claude Enterprise key (documented as sk-ant-api01-...) shares its prefix with regular API keys: the API,
    not the connector, says which streams a key reads."""
    validate_config(config(admin_api_key=key))


# A change to a field's schema in the spec, a config that the changed schema refuses, and the sentence saying so.
SPEC_CHANGES = {
    "a lower maximum and another default": (
        lambda properties: properties["lookback_window_days"].update(maximum=20, default=5),
        {"lookback_window_days": 25},
        "lookback_window_days must be a whole number of days from 0 to 20, not 25: the default, 5, suits most"),
    "a dimension fewer": (
        lambda properties: properties["analytics_group_by"]["items"]["enum"].remove("speed"),
        {"analytics_group_by": ["model", "speed"]},
        "analytics_group_by has 'speed', which the Usage and Cost Analytics API cannot group by: use some of actor, "
        "actor_type, agent_id, api_key_id, claude_tag_category, claude_tag_user_id, context_window, cost_type, "
        "deployment_id, environment_id, inference_geo, model, product, rbac_group_id, service_tier, "
        "slack_channel_id, token_type, workspace_id."),
    "dates without a time": (
        lambda properties: properties["end_date"].update(pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        {"end_date": "2025-02-01T00:00:00Z"},
        "end_date '2025-02-01T00:00:00Z' is not a date"),
    "another default api_url": (
        lambda properties: properties["api_url"].update(default="https://proxy.example.com"),
        {"api_url": "ftp://example.com"},
        "is not a URL: leave it empty to use https://proxy.example.com, or give"),
}


@pytest.mark.parametrize("change", list(SPEC_CHANGES))
def test_each_bound_is_the_spec_s_and_the_sentence_says_it(change) -> None:
    """A field's bounds are written once, in its schema in the spec: change them there, and the field's rule refuses
    and words what the spec now says, in every runtime (the manifest's rules, without the package)."""
    change_spec, overrides, expected = SPEC_CHANGES[change]
    manifest = yaml.safe_load(Path(MANIFEST).read_text())
    change_spec(manifest["spec"]["connection_specification"]["properties"])
    user_config = config(**overrides)
    source = ConcurrentDeclarativeSource(source_config=manifest, config=user_config)

    with pytest.raises(AirbyteTracedException) as raised:
        source.streams(user_config)
    assert expected in raised.value.message
    assert raised.value.failure_type == FailureType.config_error
