"""The stand-in's Rate Limits API: `GET /v1/organizations/rate_limits` and
`GET /v1/organizations/workspaces/{workspace_id}/rate_limits` (`shared/reference/limits-api.md` §1, GA).

Documented (✅) and enforced here: `{data, next_page}` pages; without `limit` every entry in one page with `next_page`
null, with `limit` (1 to 1000) pages of that many entries and `page` = the previous `next_page`; `group_type` filters
both endpoints; `model` (org only) keeps the one entry listing the model, 404 if none; `include_inherited`
(workspace only, default false) lists only overrides unless true, a value that is not a boolean 400; the default
workspace 404; `group` on every entry beside the deprecated `group_type`, `display_name` on model groups only.
Where the docs are silent the stand-in is stricter: any other parameter (`model` on a workspace, `include_inherited`
on the organization) 400, a page token bound to its query, an archived workspace 400 (as its members and service
accounts are), an unknown one 404. Admin keys only: server.py refuses the others (a workspace key 403, as documented).
The `files` entries come in the older shape, without `group` (stages A and B of §1.8).
"""

import re
from typing import Any, Dict, List, Optional

import orjson

from . import page_tokens, parameters
from .errors import ApiError
from .limits import GROUP_TYPES, Group, Limits

RATE_LIMITS_PATH = "/v1/organizations/rate_limits"
WORKSPACE_RATE_LIMITS_PATH = re.compile(r"^/v1/organizations/workspaces/(?P<workspace_id>[^/]+)/rate_limits$")
LIMIT_MAX = 1000


def limits_response(limits: Limits, path: str, query: Dict[str, List[str]]) -> Optional[bytes]:
    """The body for a rate limits path, or None if the path is not one."""
    if path == RATE_LIMITS_PATH:
        parameters.check_names(query, {"group_type", "model", "limit", "page"})
        model = parameters.single(query, "model", None)
        entries = [_org_entry(group) for group in _of_type(limits.groups, query)
                   if model is None or model in (group.models or [])]
        if model is not None and not entries:
            raise ApiError(404, "not_found_error", f"No rate limits found for model {model!r}")
        return _page(path, query, entries)
    workspace = WORKSPACE_RATE_LIMITS_PATH.match(path)
    if workspace is None:
        return None
    workspace_id = workspace.group("workspace_id")
    parameters.check_names(query, {"group_type", "include_inherited", "limit", "page"})
    inherited = parameters.single(query, "include_inherited", "false")
    if inherited not in ("true", "false"):
        raise ApiError(400, "invalid_request_error", "include_inherited: Input should be a valid boolean")
    if workspace_id == limits.default_workspace_id:
        raise ApiError(404, "not_found_error", "The default workspace cannot have rate limit overrides; read its "
                                               "limits from /v1/organizations/rate_limits")
    if workspace_id in limits.archived_overrides:
        raise ApiError(400, "invalid_request_error", f"Workspace {workspace_id} is archived")
    if workspace_id not in limits.workspaces:
        raise ApiError(404, "not_found_error", f"Workspace {workspace_id} not found")
    wanted = {group.id for group in _of_type(limits.groups, query)}
    entries = [_workspace_entry(limits, group, values, workspace_id)
               for group, values in limits.applying(workspace_id, inherited == "true") if group.id in wanted]
    return _page(path, query, entries)


def _of_type(groups: List[Group], query: Dict[str, List[str]]) -> List[Group]:
    group_type = parameters.single(query, "group_type", None)
    if group_type is not None and group_type not in GROUP_TYPES:
        raise ApiError(400, "invalid_request_error",
                       f"group_type: Input should be {', '.join(repr(t) for t in GROUP_TYPES)}")
    return [group for group in groups if group_type in (None, group.type)]


def _group_members(group: Group, models: Optional[List[str]]) -> Dict[str, Any]:
    members: Dict[str, Any] = {"group_type": group.type}
    if not group.older_shape:
        members["group"] = {"type": group.type, "id": group.id,
                            **({"display_name": group.display_name} if group.display_name else {})}
    members["models"] = models
    return members


def _org_entry(group: Group) -> Dict[str, Any]:
    return {"type": "rate_limit", "id": group.rate_limit_id, **_group_members(group, group.models),
            "limits": [{"type": limit, "value": value} for limit, value in group.limits.items()]}


def _workspace_entry(limits: Limits, group: Group, values: Dict[str, Any], workspace_id: str) -> Dict[str, Any]:
    return {"type": "workspace_rate_limit", **_group_members(group, limits.workspace_models(group, workspace_id)),
            "rate_limit_id": group.rate_limit_id, "workspace_id": workspace_id,
            "limits": [{"type": limit, "value": value, "org_limit": group.limits.get(limit),
                        "source": {"type": source}} for limit, (value, source) in values.items()]}


def _page(path: str, query: Dict[str, List[str]], entries: List[Dict[str, Any]]) -> bytes:
    if "limit" not in query:
        if "page" in query:  # stricter: without limit there is only one page, so no token to come back
            raise ApiError(400, "invalid_request_error", "Invalid page token")
        return orjson.dumps({"data": entries, "next_page": None})
    limit = parameters.limit(query, LIMIT_MAX, LIMIT_MAX)
    fingerprint = page_tokens.fingerprint(path, sorted((k, v) for k, v in query.items() if k != "page"))
    first = 0
    if "page" in query:
        first = page_tokens.decode(query["page"][0], fingerprint).get("offset")
        if not isinstance(first, int):
            raise ApiError(400, "invalid_request_error", "Invalid page token")
    more = first + limit < len(entries)
    return orjson.dumps({"data": entries[first:first + limit],
                         "next_page": page_tokens.encode({"offset": first + limit}, fingerprint) if more else None})
