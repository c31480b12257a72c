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
from .engagement import FLOOR as ENGAGEMENT_FLOOR, Engagement
from .engagement_endpoints import (
    ANALYTICS_ARTIFACTS_PATH,
    ANALYTICS_CHAT_PROJECTS_PATH,
    ANALYTICS_CONNECTORS_PATH,
    ANALYTICS_PLUGINS_PATH,
    ANALYTICS_SKILLS_PATH,
    ANALYTICS_SUMMARIES_PATH,
    ANALYTICS_USERS_PATH,
    ENGAGEMENT_PATHS,
)
from .limits import Limits
from .limits_endpoints import RATE_LIMITS_PATH
from .faults import Fault, FaultPlan, parse_fault, status_fault
from .organization import CostRow, Organization, UsageRow
from .server import COST_PATH, DEFAULT_ADMIN_KEY, DEFAULT_ANALYTICS_KEY, USAGE_PATH, FakeAdminApi, LoggedRequest

__all__ = [
    "ANALYTICS_ARTIFACTS_PATH",
    "ANALYTICS_CHAT_PROJECTS_PATH",
    "ANALYTICS_CONNECTORS_PATH",
    "ANALYTICS_PLUGINS_PATH",
    "ANALYTICS_SKILLS_PATH",
    "ANALYTICS_SUMMARIES_PATH",
    "ANALYTICS_USERS_PATH",
    "ENGAGEMENT_FLOOR",
    "ENGAGEMENT_PATHS",
    "Engagement",
    "ANALYTICS_BETA",
    "COST_ANALYTICS_PATH",
    "DEFAULT_ANALYTICS_KEY",
    "USAGE_ANALYTICS_PATH",
    "API_KEYS_PATH",
    "CLAUDE_CODE_PATH",
    "COST_PATH",
    "Directory",
    "INVITES_PATH",
    "Limits",
    "RATE_LIMITS_PATH",
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
