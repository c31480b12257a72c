"""Everything the stand-in's Usage and Cost Analytics API decides without documentation, in one place.

`shared/reference/analytics-api.md` marks each fact: ✅ documented, 🟡 third party or an official sibling endpoint
(the Enterprise analytics reports), ❓ inferred. What is ✅ lives in analytics.py and analytics_endpoints.py; what is
not lives here, so that one live response is enough to correct the stand-in. Where nothing is known the stand-in
is strict: it refuses what it cannot know to be allowed.
"""

from decimal import Decimal

# 🟡 The envelope of the Enterprise `*_report` siblings, which share the SDK page type `ReportPageCursor`.
DATA, HAS_MORE, NEXT_PAGE, DATA_REFRESHED_AT = "data", "has_more", "next_page", "data_refreshed_at"

# 🟡 `limit` as on the Enterprise per-user reports (1 to 1000, default 20); the docs say only that it is the page size.
LIMIT_DEFAULT, LIMIT_MAX = 20, 1000

# ❓ The docs list 1d, 1h and 1m buckets in prose only, with no per-width range rule for the new endpoints: the
# stand-in serves daily buckets (and no bucket at all, which is documented), and refuses the others.
TIME_BUCKET_WIDTHS = ("1d",)

# ❓ The most group_by[] values at once: not documented (the legacy usage report allows 5; the Enterprise siblings'
# arrays allow 100). The stand-in refuses more than this many; None would mean no cap.
MAX_GROUP_BY = 6

# ❓ The longest range: the docs give only the default end (starting_at plus 31 days); the siblings say "at most 31
# days". Refused beyond.
MAX_RANGE_DAYS = 31

# 🟡 "Data is typically refreshed every 4 hours" (Enterprise siblings): data_refreshed_at is the last refresh, and
# usage after it is not served yet.
REFRESH_HOURS = 4

# 🟡 An expired page cursor answers HTTP 410 (Enterprise text); its error type is not documented.
EXPIRED_CURSOR_STATUS, EXPIRED_CURSOR_TYPE = 410, "invalid_request_error"
EXPIRED_CURSOR_MESSAGE = "The page cursor has expired because the data was refreshed; restart from the first page."

# ❓ The status of a request without the beta header, and of a key kind an endpoint does not serve.
MISSING_BETA_STATUS = 400
WRONG_KEY_KIND_STATUS = 403

# ❓ The usage metric names (`usage{…}`): the Enterprise `usage_report` row's, with `requests`.
USAGE_METRICS = ("uncached_input_tokens", "cache_read_input_tokens", "cache_creation", "output_tokens",
                 "server_tool_use", "requests")

# 🟡 The cost metric names (`cost{…}`): the Enterprise `cost_report` row's, whose descriptions are word for word the
# new endpoint's.
COST_METRICS = ("amount", "currency", "list_amount", "requests")

# ❓ The shape of `group.actor` (the Enterprise `BetaAnalyticsUserActor`, and its service-account and API-key
# siblings), and the values of `actor_type`.
USER_ACTOR, SERVICE_ACCOUNT_ACTOR, API_KEY_ACTOR = "user_actor", "service_account_actor", "api_key_actor"
ACTOR_TYPES = {USER_ACTOR: "user", SERVICE_ACCOUNT_ACTOR: "service_account", API_KEY_ACTOR: "api_key"}

# ❓ The `product` of API usage (the documented enum's values were not read; code execution rows are documented
# to have product null).
API_PRODUCT = "api"

# ❓ Whether Priority Tier cost is in /analytics/cost (the legacy cost report leaves it out). Kept out, so the
# stand-in's two cost endpoints agree.
COST_INCLUDES_PRIORITY_TIER = False

# ❓ That `amount` (post-discount, pre-credit) is what the legacy cost report's amount is: the stand-in's
# reconciliation of the two rests on it. The list price is the organization's (organization.LIST_PRICE_PER_PAID).
LEGACY_AMOUNT_IS_AMOUNT = True

# ❓ The group_by values cut off in the docs' list after `ser…` (the rest is inferred from the filter names).
INFERRED_GROUP_BY = ("service_tier", "slack_channel_id", "speed", "token_type", "workspace_id")

ZERO = Decimal(0)
