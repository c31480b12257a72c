"""The stand-in's Rate Limits API over real HTTP, as `shared/reference/limits-api.md` §1 documents it: every group
type, `group` beside the deprecated `group_type` (and one entry in the older shape without `group`), overrides with
and without `include_inherited`, the default workspace's 404, paging by `limit` and `page`, and Admin keys only."""

import pytest

from integration_tests.fake_admin_api import DEFAULT_ANALYTICS_KEY, RATE_LIMITS_PATH
from integration_tests.fake_admin_api.limits import GROUP_TYPES
from integration_tests.test_fake_admin_api import HEADERS, error_of, get


def workspace_path(workspace_id):
    return f"/v1/organizations/workspaces/{workspace_id}/rate_limits"


def active_workspaces(api):
    return [w["id"] for w in api.directory.workspaces if w["archived_at"] is None]


def test_the_organization_has_a_group_of_every_type_in_one_page(api) -> None:
    body = get(api, RATE_LIMITS_PATH).json()

    assert body["next_page"] is None and set(body) == {"data", "next_page"}
    assert {entry["group_type"] for entry in body["data"]} == set(GROUP_TYPES)
    for entry in body["data"]:
        assert entry["type"] == "rate_limit" and entry["id"] and entry["limits"]
        if "group" in entry:
            assert entry["group"]["type"] == entry["group_type"] and entry["group"]["id"].startswith("rlg_")
            assert ("display_name" in entry["group"]) == (entry["group_type"] == "model_group")
        assert (entry["models"] is None) == (entry["group_type"] != "model_group")
    assert [entry["group_type"] for entry in body["data"] if "group" not in entry] == ["files"]  # the older shape
    fast = [entry for entry in body["data"] if {"fast_itpmca", "fast_otpm"} <= {lim["type"] for lim in entry["limits"]}]
    assert [entry["group"]["display_name"] for entry in fast] == ["Claude Opus 4.x"]


def test_filters_and_pages(api) -> None:
    everything = get(api, RATE_LIMITS_PATH).json()["data"]
    assert get(api, RATE_LIMITS_PATH, {"group_type": "batch"}).json()["data"] == \
        [entry for entry in everything if entry["group_type"] == "batch"]
    [opus] = get(api, RATE_LIMITS_PATH, {"model": "claude-opus-4-5"}).json()["data"]
    assert opus["group"]["display_name"] == "Claude Opus 4.x"
    assert error_of(get(api, RATE_LIMITS_PATH, {"model": "claude-2"}))[:2] == (404, "not_found_error")

    pages, params = [], {"limit": "3"}
    while True:
        body = get(api, RATE_LIMITS_PATH, params).json()
        pages.append(body["data"])
        if body["next_page"] is None:
            break
        params = {"limit": "3", "page": body["next_page"]}
    assert [len(page) for page in pages] == [3, 3, 2] and sum(pages, []) == everything
    assert error_of(get(api, RATE_LIMITS_PATH, {"limit": "2", "page": params["page"]}))[2] == "Invalid page token"


@pytest.mark.parametrize("path, params, message", [
    (RATE_LIMITS_PATH, {"include_inherited": "true"}, "include_inherited: Extra inputs are not permitted"),
    (RATE_LIMITS_PATH, {"group_type": "images"}, "group_type: Input should be"),
    (RATE_LIMITS_PATH, {"limit": "0"}, "between 1 and 1000"),
    ("workspace", {"include_inherited": "yes"}, "include_inherited: Input should be a valid boolean"),
    ("workspace", {"model": "claude-opus-4-5"}, "model: Extra inputs are not permitted"),
])
def test_what_is_refused(api, path, params, message) -> None:
    path = workspace_path(active_workspaces(api)[0]) if path == "workspace" else path
    status, error_type, text = error_of(get(api, path, params))
    assert (status, error_type) == (400, "invalid_request_error") and message in text


def test_a_workspace_lists_its_overrides_and_with_include_inherited_what_applies(api) -> None:
    overridden, narrower, plain = active_workspaces(api)[:3]
    organization = {entry["rate_limit_id" if "rate_limit_id" in entry else "id"]: entry
                    for entry in get(api, RATE_LIMITS_PATH).json()["data"]}

    assert get(api, workspace_path(plain)).json() == {"data": [], "next_page": None}
    only_overrides = get(api, workspace_path(overridden)).json()["data"]
    assert {lim["source"]["type"] for entry in only_overrides for lim in entry["limits"]} == {"workspace"}
    assert [lim["org_limit"] for entry in only_overrides for lim in entry["limits"]
            if lim["type"] == "tokens_per_day"] == [None]  # a type the organization has no value for

    inherited = get(api, workspace_path(plain), {"include_inherited": "true"}).json()["data"]
    assert len(inherited) == len(organization)
    for entry in inherited:
        assert entry["workspace_id"] == plain and entry["type"] == "workspace_rate_limit"
        org_values = {lim["type"]: lim["value"] for lim in organization[entry["rate_limit_id"]]["limits"]}
        assert {lim["type"]: (lim["value"], lim["org_limit"], lim["source"]["type"]) for lim in entry["limits"]} == \
            {limit: (value, value, "organization") for limit, value in org_values.items()}
    mixed = get(api, workspace_path(overridden), {"include_inherited": "true"}).json()["data"]
    assert {lim["source"]["type"] for lim in mixed[0]["limits"]} == {"workspace", "organization"}
    # A model group applies only where the workspace may use one of its models, and lists only those.
    narrow = get(api, workspace_path(narrower), {"include_inherited": "true"}).json()["data"]
    assert "Claude Opus 4.x" not in {(entry.get("group") or {}).get("display_name") for entry in narrow}
    [haiku] = [entry for entry in narrow if (entry.get("group") or {}).get("display_name") == "Claude Haiku 4.x"]
    assert haiku["models"] == ["claude-haiku-4-5-20251001", "claude-haiku-4-5"]


def test_the_default_archived_and_unknown_workspaces_and_other_keys_are_refused(api) -> None:
    default = api.limits.default_workspace_id
    for params in ({}, {"include_inherited": "true"}):
        assert error_of(get(api, workspace_path(default), params))[:2] == (404, "not_found_error")
    archived = api.directory.archived_workspace_ids()[0]
    assert error_of(get(api, workspace_path(archived)))[:2] == (400, "invalid_request_error")
    assert error_of(get(api, workspace_path("wrkspc_nope")))[:2] == (404, "not_found_error")
    for key in (DEFAULT_ANALYTICS_KEY, "sk-ant-api03-a-workspace-key"):
        assert error_of(get(api, RATE_LIMITS_PATH, headers={**HEADERS, "x-api-key": key}))[:2] == \
            (403, "permission_error")
