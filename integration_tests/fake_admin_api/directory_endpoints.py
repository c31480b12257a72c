"""The directory endpoints (/me, workspaces, members, API keys, users, invites) and the Claude Code report.

Lists page by id (`after_id` = the previous page's `last_id`, `limit` 1 to 1000, default 20) and answer
`{data, has_more, first_id, last_id}`; there is no offset. Stricter than the docs say where they are silent:
an unknown cursor id, `after_id` together with `before_id`, and unknown parameters are refused.
The Claude Code report takes one UTC day (`starting_at=YYYY-MM-DD`) and pages over its records.
"""

import re
from datetime import date
from typing import Any, Callable, Dict, List, Optional, Sequence

import orjson

from . import page_tokens, parameters
from .directory import Directory
from .errors import ApiError

CLAUDE_CODE_PATH = "/v1/organizations/usage_report/claude_code"
ME_PATH = "/v1/organizations/me"
WORKSPACES_PATH = "/v1/organizations/workspaces"
API_KEYS_PATH = "/v1/organizations/api_keys"
USERS_PATH = "/v1/organizations/users"
INVITES_PATH = "/v1/organizations/invites"
MEMBERS_PATH = re.compile(r"^/v1/organizations/workspaces/(?P<workspace_id>[^/]+)/members$")
LIST_LIMITS = (20, 1000)
CLAUDE_CODE_LIMITS = (20, 1000)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def directory_response(directory: Directory, path: str, query: Dict[str, List[str]], today: date,
                       refuse_archived_members: bool = False) -> Optional[bytes]:
    """The body for a directory or Claude Code path, or None if the path is not one of them.

    refuse_archived_members answers an archived workspace's members with a 400, as the API answers its service
    accounts (documented; the message is the stand-in's own).
    """
    if path == ME_PATH:
        parameters.check_names(query, set())
        return orjson.dumps(directory.me)
    if path == CLAUDE_CODE_PATH:
        return _claude_code(directory, path, query, today)
    lists: Dict[str, Callable[[], tuple]] = {
        WORKSPACES_PATH: lambda: (_workspaces(directory, query), {"include_archived"}),
        API_KEYS_PATH: lambda: (_filtered(directory.api_keys, query, ("status", "workspace_id", "created_by_user_id")),
                                {"status", "workspace_id", "created_by_user_id"}),
        USERS_PATH: lambda: (_people(directory.users, query, "roles[]", "role"), {"email", "roles[]"}),
        INVITES_PATH: lambda: (_invites(directory, query), {"email", "roles[]", "statuses[]"}),
    }
    if path in lists:
        items, filters = lists[path]()
        return _id_page(items, query, filters, "id")
    members = MEMBERS_PATH.match(path)
    if members:
        workspace_id = members.group("workspace_id")
        if workspace_id not in directory.members:
            raise ApiError(404, "not_found_error", f"Workspace {workspace_id} not found")
        if refuse_archived_members and workspace_id in directory.archived_workspace_ids():
            raise ApiError(400, "invalid_request_error", f"Workspace {workspace_id} is archived")
        return _id_page(directory.members[workspace_id], query, set(), "user_id")
    return None


def _workspaces(directory: Directory, query: Dict[str, List[str]]) -> List[Dict[str, Any]]:
    include = parameters.single(query, "include_archived", "false")
    if include not in ("true", "false"):
        raise ApiError(400, "invalid_request_error", "include_archived: Input should be a valid boolean")
    # Archived workspaces are hidden unless asked for, as documented.
    return [w for w in directory.workspaces if include == "true" or w["archived_at"] is None]


def _filtered(items: List[Dict[str, Any]], query: Dict[str, List[str]], names: Sequence[str]) -> List[Dict[str, Any]]:
    wanted = {name: parameters.single(query, name, None) for name in names}
    field = {"created_by_user_id": lambda item: item["created_by"]["id"]}
    return [item for item in items if all(
        value is None or (field[name](item) if name in field else item.get(name)) == value
        for name, value in wanted.items())]


def _people(items: List[Dict[str, Any]], query: Dict[str, List[str]], roles_param: str, role_field: str):
    email, roles = parameters.single(query, "email", None), set(query.get(roles_param, []))
    return [item for item in items if (email is None or item["email"] == email) and (not roles or item[role_field] in roles)]


def _invites(directory: Directory, query: Dict[str, List[str]]) -> List[Dict[str, Any]]:
    statuses = set(query.get("statuses[]", [])) or {"accepted", "expired", "pending"}  # omitted: all three
    return [invite for invite in _people(directory.invites, query, "roles[]", "role") if invite["status"] in statuses]


def _id_page(items: List[Dict[str, Any]], query: Dict[str, List[str]], filters: set, id_field: str) -> bytes:
    parameters.check_names(query, {"limit", "after_id", "before_id", *filters})
    limit = parameters.limit(query, *LIST_LIMITS)
    after, before = parameters.single(query, "after_id", None), parameters.single(query, "before_id", None)
    if after and before:
        raise ApiError(400, "invalid_request_error", "Cannot specify both after_id and before_id")
    ids = [item[id_field] for item in items]
    for name, cursor in (("after_id", after), ("before_id", before)):
        if cursor is not None and cursor not in ids:
            raise ApiError(400, "invalid_request_error", f"{name}: unknown id {cursor!r}")
    if after is not None:
        window = items[ids.index(after) + 1:]
        page, has_more = window[:limit], len(window) > limit
    elif before is not None:
        window = items[:ids.index(before)]
        page, has_more = window[-limit:], len(window) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return orjson.dumps({"data": page, "has_more": has_more,
                         "first_id": page[0][id_field] if page else None,
                         "last_id": page[-1][id_field] if page else None})


def _claude_code(directory: Directory, path: str, query: Dict[str, List[str]], today: date) -> bytes:
    parameters.check_names(query, {"starting_at", "limit", "page"})
    day_text = parameters.single(query, "starting_at", None)
    if day_text is None:
        raise ApiError(400, "invalid_request_error", "starting_at: Field required")
    if not _DAY.match(day_text):
        raise ApiError(400, "invalid_request_error", "starting_at: String should match pattern '^\\d{4}-\\d{2}-\\d{2}$'")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise ApiError(400, "invalid_request_error", "starting_at: Input should be a valid date") from None
    if day > today:  # stricter: a day that has not started has no data to page over
        raise ApiError(400, "invalid_request_error", "starting_at must not be in the future")
    limit = parameters.limit(query, *CLAUDE_CODE_LIMITS)
    fingerprint = page_tokens.fingerprint(path, day_text, limit)
    offset = 0
    if "page" in query:
        offset = page_tokens.decode(parameters.single(query, "page", ""), fingerprint).get("offset")
        if not isinstance(offset, int):
            raise ApiError(400, "invalid_request_error", "Invalid page token")
    # Only data older than an hour is served; the stand-in's Claude Code data ends yesterday, as its usage does.
    records = directory.claude_code_records(day)
    page = records[offset:offset + limit]
    more = offset + limit < len(records)
    return orjson.dumps({"data": page, "has_more": more,
                         "next_page": page_tokens.encode({"offset": offset + limit}, fingerprint) if more else None})
