"""The organization's rate limits, as the Console's Limits page shows them (`shared/reference/limits-api.md` §1):
a group of every type, the organization's value of each limiter, and what each active workspace overrides.

Held as plain data (groups, values, overrides, model access) that limits_endpoints.py turns into the API's entries
and the ground truth turns into rows, each on its own. The model groups are the families of the organization's
models, each listing every model ID and its alias, so usage joins to them; the values are a Tier 2 organization's,
so `make demo`'s busiest hours reach a fair share of them.
"""

import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .directory import Directory
from .organization import MODELS, _id

GROUP_TYPES = ("model_group", "batch", "token_count", "files", "skills", "web_search")
# The group sent in the API's older shape, with group_type and without group (limits-api.md §1.8, stages A and B).
OLDER_SHAPE_GROUP = "files"


@dataclass
class Group:
    type: str
    id: str  # group.id, rlg_...: the same in every organization
    rate_limit_id: str  # the organization's entry id
    limits: Dict[str, int]  # limiter type -> the organization's value, in the API's order
    display_name: Optional[str] = None  # model groups only
    models: Optional[List[str]] = None  # model groups only: every model ID and alias
    older_shape: bool = False


@dataclass
class WorkspaceLimits:
    # group id -> limiter type -> the workspace's value (a type the organization has no value for included)
    overrides: Dict[str, Dict[str, int]] = field(default_factory=dict)
    # The models the workspace may use; None: all of them. A model group applies if it may use one of its models.
    models: Optional[List[str]] = None


class Limits:
    """The organization's groups and each active workspace's overrides and model access."""

    def __init__(self, directory: Directory) -> None:
        rng = random.Random(f"{directory.organization.seed}:limits")
        families: Dict[str, List[str]] = {}
        for model, *_ in MODELS:
            family = next(name for name in ("Opus", "Sonnet", "Haiku") if name.lower() in model)
            families.setdefault(family, []).extend([model, model.rsplit("-", 1)[0]])  # the ID and its alias
        per_minute = {"requests_per_minute": 1_000, "input_tokens_per_minute": 450_000,
                      "output_tokens_per_minute": 90_000}
        self.groups: List[Group] = []
        for family, models in families.items():
            limits = dict(per_minute)
            if family == "Opus":  # fast mode: its own input (cache-aware) and output limits
                limits.update(fast_itpmca=200_000, fast_otpm=40_000)
            if family == "Sonnet":  # a limiter beside the documented three: limiter types are an open set
                limits["input_tokens_per_minute_cache_aware"] = 900_000
            self.groups.append(Group("model_group", _id(rng, "rlg_"), _id(rng, "rl_"), limits,
                                     f"Claude {family} 4.x", models))
        others = {"batch": {"enqueued_batch_requests": 500_000}, "token_count": {"requests_per_minute": 2_000},
                  "files": {"requests_per_minute": 500}, "skills": {"requests_per_minute": 500},
                  "web_search": {"tool_uses_per_second": 30}}
        for group_type, limits in others.items():
            self.groups.append(Group(group_type, _id(rng, "rlg_"), _id(rng, "rl_"), limits,
                                     older_shape=group_type == OLDER_SHAPE_GROUP))
        # The default workspace has no id in the lists; this is how the stand-in addresses it (undocumented).
        self.default_workspace_id = _id(rng, "wrkspc_")
        opus, sonnet, haiku = self.groups[:3]
        active = [w["id"] for w in directory.workspaces if w["archived_at"] is None]
        archived = directory.archived_workspace_ids()
        self.workspaces: Dict[str, WorkspaceLimits] = {workspace_id: WorkspaceLimits() for workspace_id in active}
        # The first: lower Opus and batch limits, and a daily cap the organization does not set.
        self.workspaces[active[0]].overrides = {
            opus.id: {"requests_per_minute": 200, "input_tokens_per_minute": 100_000, "tokens_per_day": 5_000_000},
            self.groups[3].id: {"enqueued_batch_requests": 50_000}}
        # The second: a lower Sonnet output limit, no Opus, and only the newest Haiku.
        self.workspaces[active[1]] = WorkspaceLimits(
            {sonnet.id: {"output_tokens_per_minute": 20_000}},
            sonnet.models + [model for model in haiku.models if model.startswith("claude-haiku-4-5")])
        # The third and any later one: the organization's limits. Archived ones keep an override nobody can use.
        self.archived_overrides = {workspace_id: {opus.id: {"requests_per_minute": 10}} for workspace_id in archived}

    def group_applies(self, group: Group, workspace_id: str) -> bool:
        access = self.workspaces[workspace_id].models
        return group.models is None or access is None or any(model in access for model in group.models)

    def workspace_models(self, group: Group, workspace_id: str) -> Optional[List[str]]:
        access = self.workspaces[workspace_id].models
        if group.models is None or access is None:
            return group.models
        return [model for model in group.models if model in access]

    def applying(self, workspace_id: str, include_inherited: bool) -> List[Tuple[Group, Dict[str, Tuple[int, str]]]]:
        """Each group that applies to the workspace with its values: limiter type -> (value, source type). Without
        include_inherited, only the groups and types the workspace overrides."""
        overrides = self.workspaces[workspace_id].overrides
        applying = []
        for group in self.groups:
            own = overrides.get(group.id, {})
            values = {limit: (own[limit], "workspace") if limit in own else (value, "organization")
                      for limit, value in group.limits.items() if include_inherited or limit in own}
            values.update({limit: (value, "workspace") for limit, value in own.items() if limit not in values})
            if values and self.group_applies(group, workspace_id):
                applying.append((group, values))
        return applying
