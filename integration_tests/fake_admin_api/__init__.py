"""A local stand-in for the Anthropic Admin API's usage and cost reports, served over real HTTP."""

from .faults import Fault, FaultPlan, parse_fault, status_fault
from .organization import CostRow, Organization, UsageRow
from .server import COST_PATH, DEFAULT_ADMIN_KEY, USAGE_PATH, FakeAdminApi, LoggedRequest

__all__ = [
    "COST_PATH",
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
