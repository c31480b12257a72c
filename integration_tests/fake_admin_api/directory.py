"""The organization's directory (who and what the ids in usage are) and its Claude Code activity.

Built from the same seed as the usage rows, so every workspace_id and api_key_id in the reports resolves in
/workspaces (archived ones included) and /api_keys, as a joining user expects.
"""

import random
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List

from .organization import MODELS, Organization, _id

USER_ROLES = ("user", "developer", "billing", "admin", "claude_code_user")
WORKSPACE_ROLES = ("workspace_user", "workspace_developer", "workspace_admin", "workspace_billing")
KEY_STATUSES = ("active", "active", "active", "inactive", "archived", "expired")
TERMINALS = ("vscode", "iTerm.app", "Apple_Terminal", "ghostty", "cursor", None)
KNOWN_TOOLS = ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")
# A tool the API added after this connector was written: the stream must carry it, not break on it.
NEW_TOOL = "bash_tool"


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Directory:
    """Users, workspaces, members, API keys, invites and daily Claude Code records of one organization."""

    def __init__(self, organization: Organization) -> None:
        self.organization = organization
        rng = random.Random(f"{organization.seed}:directory")
        founded = datetime.combine(organization.first_day - timedelta(days=400), datetime.min.time(), timezone.utc)
        self.me = {"id": str(uuid.UUID(int=rng.getrandbits(128))), "name": f"Stand-in Org {organization.seed}",
                   "type": "organization"}
        self.users = [
            {"id": account, "email": f"person{index}@example.com", "name": f"Person {index}",
             "role": USER_ROLES[index % len(USER_ROLES)],
             "added_at": _rfc3339(founded + timedelta(days=index * 3)), "type": "user"}
            for index, account in enumerate(organization.accounts)
        ]
        self.workspaces = []
        for index, workspace_id in enumerate(w for w in organization.workspaces if w is not None):
            archived = index % 4 == 1  # archived workspaces still appear in historical usage
            self.workspaces.append({
                "id": workspace_id, "name": f"Workspace {index}", "display_color": "#6C5BB9",
                "created_at": _rfc3339(founded + timedelta(days=index)),
                "archived_at": _rfc3339(founded + timedelta(days=300 + index)) if archived else None,
                "data_residency": {"workspace_geo": "us", "default_inference_geo": "global",
                                   "allowed_inference_geos": "unrestricted"},
                "tags": {"team": f"team-{index % 3}"}, "external_key_id": None,
                "compartment_id": None, "type": "workspace",
            })
        # Two workspaces made after the usage period, with no usage yet: active workspaces beside the first one, whose
        # rate limits differ (limits.py). Their ids come from a stream of their own, so no other id changes.
        new_ids = random.Random(f"{organization.seed}:new workspaces")
        for index in range(len(self.workspaces), len(self.workspaces) + 2):
            self.workspaces.append({**self.workspaces[0], "id": _id(new_ids, "wrkspc_"), "name": f"Workspace {index}",
                                    "created_at": _rfc3339(founded + timedelta(days=400)), "archived_at": None,
                                    "tags": {"team": f"team-{index % 3}"}})
        self.members: Dict[str, List[Dict[str, Any]]] = {
            workspace["id"]: [
                {"user_id": user["id"], "workspace_id": workspace["id"],
                 "workspace_role": WORKSPACE_ROLES[(i + j) % len(WORKSPACE_ROLES)], "type": "workspace_member"}
                for j, user in enumerate(self.users) if (i + j) % 2 == 0
            ]
            for i, workspace in enumerate(self.workspaces)
        }
        self.api_keys = []
        for index, (key_id, workspace_id) in enumerate(organization.api_keys):
            creator = self.users[index % len(self.users)]
            self.api_keys.append({
                "id": key_id, "name": f"key-{index:03d}", "status": KEY_STATUSES[index % len(KEY_STATUSES)],
                "created_at": _rfc3339(founded + timedelta(days=index)),
                "expires_at": None if index % 5 else _rfc3339(founded + timedelta(days=900)),
                "created_by": {"id": creator["id"], "type": "user"},
                "partial_key_hint": f"sk-ant-api03-{key_id[-3:]}...{key_id[-7:-3]}",
                "principal": {"id": creator["id"], "type": "user"} if index % 3 else None,
                "workspace_id": workspace_id, "type": "api_key",
            })
        self.invites = [
            {"id": f"invite_01{index:022d}", "email": f"candidate{index}@example.com",
             "role": USER_ROLES[index % len(USER_ROLES)], "status": ("pending", "accepted", "expired")[index % 3],
             "invited_at": _rfc3339(founded + timedelta(days=10 * index)),
             "expires_at": _rfc3339(founded + timedelta(days=10 * index + 21)),
             "accepted_at": _rfc3339(founded + timedelta(days=10 * index + 2)) if index % 3 == 1 else None,
             "rbac_group_ids": [], "type": "invite"}
            for index in range(5)
        ]

    def archived_workspace_ids(self) -> List[str]:
        return [workspace["id"] for workspace in self.workspaces if workspace["archived_at"] is not None]

    def claude_code_records(self, day: date) -> List[Dict[str, Any]]:
        """One record per actor, terminal and remote flag that used Claude Code that day, each with its models."""
        if not self.organization.first_day <= day <= self.organization.last_day:
            return []
        rng = random.Random(f"{self.organization.day_seed(day)}:claude_code")
        actors = [{"type": "user_actor", "email_address": user["email"]} for user in self.users] + [
            {"type": "api_actor", "api_key_name": key["name"]} for key in self.api_keys[:3]]
        records = []
        for actor in actors:
            for terminal, remote in rng.sample([(t, r) for t in TERMINALS for r in (False, True)], rng.randint(0, 2)):
                tools = {tool: {"accepted": rng.randint(0, 30), "rejected": rng.randint(0, 5)}
                         for tool in KNOWN_TOOLS if rng.random() < 0.7}
                if rng.random() < 0.3:
                    tools[NEW_TOOL] = {"accepted": rng.randint(0, 9), "rejected": rng.randint(0, 2)}
                breakdown = []
                for model, *_ in rng.sample(MODELS, rng.randint(1, 3)):
                    cents = rng.randint(0, 50_000) / (100 if rng.random() < 0.3 else 1)  # sometimes fractional
                    breakdown.append({
                        "model": model,
                        "tokens": {"input": rng.randint(0, 90_000), "output": rng.randint(0, 20_000),
                                   "cache_read": rng.randint(0, 50_000), "cache_creation": rng.randint(0, 5_000)},
                        "estimated_cost": {"amount": cents, "currency": "USD"},
                    })
                records.append({
                    "date": f"{day.isoformat()}T00:00:00Z",
                    "actor": actor,
                    "organization_id": self.me["id"],
                    "customer_type": "api",
                    "subscription_type": None,
                    "terminal_type": terminal,
                    "is_remote": remote,
                    "core_metrics": {
                        "num_sessions": rng.randint(1, 20),
                        "lines_of_code": {"added": rng.randint(0, 900), "removed": rng.randint(0, 300)},
                        "commits_by_claude_code": rng.randint(0, 9),
                        "pull_requests_by_claude_code": rng.randint(0, 3),
                    },
                    "tool_actions": tools,
                    "model_breakdown": breakdown,
                })
        return records
