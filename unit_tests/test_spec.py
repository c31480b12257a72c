"""The spec: the config contract users' connections depend on."""

import logging

from source_claude import SourceClaude

PROPERTIES = ["admin_api_key", "start_date", "end_date", "lookback_window_days", "claude_code_lookback_window_days",
              "engagement_lookback_window_days", "max_requests_per_minute", "api_url", "hourly_start_date", "hourly_lookback_window_hours",
              "analytics_lookback_window_days", "analytics_group_by"]


def connection_specification() -> dict:
    """The properties users see: check_last_whole_day_only is the check's own (check.config_overrides), hidden."""
    spec = SourceClaude().spec(logging.getLogger("test")).connectionSpecification
    return {**spec, "properties": {name: field for name, field in spec["properties"].items()
                                   if not field.get("airbyte_hidden")}}


def test_the_check_s_own_field_is_hidden_and_never_set_by_default() -> None:
    field = SourceClaude().spec(logging.getLogger("test")).connectionSpecification["properties"][
        "check_last_whole_day_only"]
    assert (field["airbyte_hidden"], field["default"]) == (True, False)


def test_properties_required_and_order() -> None:
    spec = connection_specification()
    assert list(spec["properties"]) == PROPERTIES
    assert spec["required"] == ["start_date"]  # the key as admin_api_key, or as a 0.0.x config's api_key
    assert [spec["properties"][name]["order"] for name in PROPERTIES] == list(range(len(PROPERTIES)))


def test_every_property_has_title_description_and_example() -> None:
    for name, schema in connection_specification()["properties"].items():
        assert schema["title"] and schema["description"] and schema["examples"], name


def test_the_key_is_a_secret_and_says_where_to_create_it() -> None:
    key = connection_specification()["properties"]["admin_api_key"]
    assert key["airbyte_secret"] is True
    assert "Admin keys" in key["description"] and "sk-ant-admin" in key["description"]
    # Either kind of key: an Admin key, or a Claude Enterprise organization's Analytics key.
    assert "Admin" in key["title"] and "Analytics" in key["title"] and "read:analytics" in key["description"]


def test_a_0_0_x_config_s_key_field_stays_a_secret_and_out_of_sight() -> None:
    """0.0.x saved its key as api_key: declared, the platform keeps masking and storing it as a secret."""
    spec = SourceClaude().spec(logging.getLogger("test")).connectionSpecification
    assert {name: spec["properties"]["api_key"][name] for name in ("airbyte_secret", "airbyte_hidden")} == {
        "airbyte_secret": True, "airbyte_hidden": True}
    assert "api_key" not in spec["required"]


def test_defaults_and_bounds() -> None:
    properties = connection_specification()["properties"]
    assert (properties["lookback_window_days"]["default"], properties["lookback_window_days"]["minimum"],
            properties["lookback_window_days"]["maximum"]) == (3, 0, 31)
    assert (properties["claude_code_lookback_window_days"]["default"],
            properties["claude_code_lookback_window_days"]["maximum"]) == (4, 31)
    # No default: the platform would fill it in, and unset the lookback follows lookback_window_days.
    assert "default" not in properties["hourly_lookback_window_hours"]
    hourly = properties["hourly_lookback_window_hours"]
    assert (hourly["minimum"], hourly["maximum"], hourly["type"]) == (0, 168, "integer")
    assert (properties["analytics_lookback_window_days"]["default"],
            properties["analytics_lookback_window_days"]["maximum"]) == (30, 31)
    assert properties["api_url"]["default"] == "https://api.anthropic.com"
    assert "default" not in properties["end_date"]
    # Unset, the connector paces only by the limit the API names; set, it never goes faster than asked.
    assert "default" not in properties["max_requests_per_minute"]
    assert (properties["max_requests_per_minute"]["minimum"], properties["max_requests_per_minute"]["type"]) == (1, "integer")


def test_the_hourly_start_date_says_its_default_and_that_state_takes_over() -> None:
    """Given the spec, Then hourly_start_date has no fixed default (it follows the clock), and its description says
    what the default is and that the saved state takes over after the first sync; its pattern is start_date's."""
    properties = connection_specification()["properties"]
    hourly = properties["hourly_start_date"]
    assert "default" not in hourly
    assert "30 days" in hourly["description"] and "saved state takes over" in hourly["description"]
    assert hourly["pattern"] == properties["start_date"]["pattern"]


def test_a_stray_manifest_in_the_working_directory_is_ignored(tmp_path, monkeypatch) -> None:
    """The CDK opens a relative manifest path from the working directory first; the packaged one must win."""
    (tmp_path / "manifest.yaml").write_text("streams: [this is not the connector's manifest")
    monkeypatch.chdir(tmp_path)

    assert list(connection_specification()["properties"]) == PROPERTIES


def test_the_analytics_grouping_offers_the_documented_dimensions_and_says_a_change_needs_a_reset() -> None:
    grouping = connection_specification()["properties"]["analytics_group_by"]
    assert "default" not in grouping  # empty: the streams' own defaults
    # The documented group_by[] values of /v1/organizations/analytics/cost, written out by hand.
    assert set(grouping["items"]["enum"]) == {
        "actor", "actor_type", "agent_id", "api_key_id", "claude_tag_category", "claude_tag_user_id",
        "context_window", "cost_type", "deployment_id", "environment_id", "inference_geo", "model", "product",
        "rbac_group_id", "service_tier", "slack_channel_id", "speed", "token_type", "workspace_id"}
    assert "reset both streams" in grouping["description"]
