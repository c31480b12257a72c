"""rate_limits and workspace_rate_limits through the CLI against the stand-in, in every runtime: every row is the
stand-in's (computed from its groups, values, overrides and model access in ground_truth.py), from one request for
the organization, one for the workspaces and one per active workspace. An Analytics key skips both streams:
test_analytics_end_to_end.py. The Connector Builder's test read: test_runtimes.py."""

from collections import Counter

import pytest

from integration_tests.connector_cli import RUNTIMES, configured_catalog, run_connector
from integration_tests.fake_admin_api import RATE_LIMITS_PATH, WORKSPACES_PATH
from integration_tests.ground_truth import expected_rate_limits, expected_workspace_rate_limits
from integration_tests.manifest_streams import PRIMARY_KEYS

STREAMS = ("rate_limits", "workspace_rate_limits")


def by_key(stream, records):
    keyed = {tuple(record.get(field) for field in PRIMARY_KEYS[stream]): record for record in records}
    assert len(keyed) == len(records), f"{stream}: two records with one key"
    return keyed


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_every_row_is_the_stand_ins_from_one_request_per_active_workspace(api, config, runtime) -> None:
    run = run_connector("read", config, configured_catalog(*STREAMS, sync_mode="full_refresh"), runtime=runtime)

    assert run.exit_code == 0, run.errors()
    assert [m for m in run.of_type("LOG") if m["log"]["level"] in ("WARN", "ERROR")] == []
    active = [w["id"] for w in api.directory.workspaces if w["archived_at"] is None]
    assert by_key("rate_limits", run.records("rate_limits")) == expected_rate_limits(api.limits)
    assert by_key("workspace_rate_limits", run.records("workspace_rate_limits")) == \
        expected_workspace_rate_limits(api.limits, active)
    # What the stand-in holds is all there: every group type, fast mode, overrides, inherited values.
    rows = run.records("workspace_rate_limits")
    assert {r["group_type"] for r in run.records("rate_limits")} >= {"model_group", "batch", "web_search"}
    assert {r["source"] for r in rows} == {"workspace", "organization"} and len({r["workspace_id"] for r in rows}) == 3
    # One request for the organization, one for the active workspaces (archived ones are not listed, so not asked
    # for), and one per active workspace, with its inherited values: no limit, no page.
    asked = Counter((r.path, tuple(sorted((k, tuple(v)) for k, v in r.query.items()))) for r in api.api_requests())
    assert asked == Counter({
        (RATE_LIMITS_PATH, ()): 1, (WORKSPACES_PATH, (("limit", ("1000",)),)): 1,
        **{(f"{WORKSPACES_PATH}/{w}/rate_limits", (("include_inherited", ("true",)),)): 1 for w in active}})
