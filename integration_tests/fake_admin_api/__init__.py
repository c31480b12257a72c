"""A local stand-in for the Anthropic Admin API's usage and cost reports, served over real HTTP."""

from .analytics_endpoints import ANALYTICS_BETA, COST_ANALYTICS_PATH, USAGE_ANALYTICS_PATH
from .directory import Directory
from .directory_endpoints import (
    API_KEYS_PATH,
    CLAUDE_CODE_PATH,
    INVITES_PATH,
    ME_PATH,
    USERS_PATH,
    WORKSPACES_PATH,
)
from .faults import Fault, FaultPlan, parse_fault, status_fault
from .organization import CostRow, Organization, UsageRow
from .server import COST_PATH, DEFAULT_ADMIN_KEY, DEFAULT_ANALYTICS_KEY, USAGE_PATH, FakeAdminApi, LoggedRequest

__all__ = [
    "ANALYTICS_BETA",
    "COST_ANALYTICS_PATH",
    "DEFAULT_ANALYTICS_KEY",
    "USAGE_ANALYTICS_PATH",
    "API_KEYS_PATH",
    "CLAUDE_CODE_PATH",
    "COST_PATH",
    "Directory",
    "INVITES_PATH",
    "ME_PATH",
    "USERS_PATH",
    "WORKSPACES_PATH",
    "DEFAULT_ADMIN_KEY",
    "USAGE_PATH",
    "CostRow",
    "FakeAdminApi",
    "Fault",
    "FaultPlan",
    "LoggedRequest",
    "Organization",
    "UsageRow",
    "parse_fault",
    "status_fault",
]
