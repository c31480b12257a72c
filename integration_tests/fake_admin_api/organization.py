"""A synthetic Anthropic organization, held as atomic rows at full dimensionality.

Every usage row carries all the dimensions the real report can group by (model, workspace, API key,
service tier, context window, inference geo, account, service account) and a minute of the day, so
any `group_by[]` and any bucket width can be answered by aggregation, as the real API does. Cost
rows are priced from the usage rows, in cents, with Decimal arithmetic. Everything is derived from
a seed and the day's place in the range (never its date), so two organizations built with the same knobs
hold the same rows, each on its own dates: the tests see the same data whatever day they run on.
"""

import random
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Dict, List, NamedTuple, Optional, Tuple


class UsageRow(NamedTuple):
    at: datetime
    model: str
    workspace_id: Optional[str]
    api_key_id: Optional[str]
    service_tier: str
    context_window: str
    inference_geo: str
    account_id: Optional[str]
    service_account_id: Optional[str]
    uncached_input_tokens: int
    cache_read_input_tokens: int
    cache_creation_5m_input_tokens: int
    cache_creation_1h_input_tokens: int
    output_tokens: int
    web_search_requests: int


class CostRow(NamedTuple):
    day: date
    workspace_id: Optional[str]
    description: str
    cost_type: str
    model: Optional[str]
    token_type: Optional[str]
    service_tier: Optional[str]
    context_window: Optional[str]
    inference_geo: Optional[str]
    amount_cents: Decimal


# Model id, display name, input price in US cents per token, supports the 1M context window.
MODELS: Tuple[Tuple[str, str, Decimal, bool], ...] = (
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", Decimal("0.0015"), False),
    ("claude-opus-4-5-20251101", "Claude Opus 4.5", Decimal("0.0005"), False),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", Decimal("0.0003"), True),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", Decimal("0.0003"), True),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", Decimal("0.0001"), False),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", Decimal("0.00008"), False),
)
SERVICE_TIERS = ("standard", "batch", "priority")
INFERENCE_GEOS = ("global", "us", "not_available")
# Price multipliers on the input price, per token type; the 1M window doubles input prices.
TOKEN_PRICES = (
    ("uncached_input_tokens", "Input Tokens", Decimal("1")),
    ("output_tokens", "Output Tokens", Decimal("5")),
    ("cache_read_input_tokens", "Cache Read Input Tokens", Decimal("0.1")),
    ("cache_creation.ephemeral_5m_input_tokens", "5m Cache Write Input Tokens", Decimal("1.25")),
    ("cache_creation.ephemeral_1h_input_tokens", "1h Cache Write Input Tokens", Decimal("2")),
)
WEB_SEARCH_CENTS = Decimal("1")  # $10 per 1,000 searches
CODE_EXECUTION_CENTS_PER_HOUR = Decimal("5")
MODEL_PRICES = {model: price for model, _, price, _ in MODELS}
TOKEN_LABELS = {token_type: label for token_type, label, _ in TOKEN_PRICES}
# The organization's negotiated discount: it pays 80% of list price, so a list-price amount is the paid one x 1.25
# (exact in decimal, and different from the paid amount, so the two cannot be swapped unnoticed).
LIST_PRICE_PER_PAID = Decimal("1.25")


@dataclass
class Organization:
    """The organization's rows for `days` UTC days ending with `last_day` (default: yesterday)."""

    seed: int = 7
    days: int = 90
    rows_per_day: int = 60
    last_day: Optional[date] = None
    keys_appear_on: Optional[date] = None  # reports lack newer keys before this day (default: mid-range); reports.py
    _usage: Dict[date, List[UsageRow]] = field(default_factory=dict, init=False, repr=False)
    _cost: Dict[date, List[CostRow]] = field(default_factory=dict, init=False, repr=False)
    _restatements: Dict[date, int] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    version: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.last_day is None:
            self.last_day = datetime.now(timezone.utc).date() - timedelta(days=1)
        self.first_day = self.last_day - timedelta(days=self.days - 1)
        if self.keys_appear_on is None:
            self.keys_appear_on = self.first_day + timedelta(days=self.days // 2)
        rng = random.Random(f"{self.seed}:universe")
        key_count = max(6, self.rows_per_day // 12)
        workspace_count = max(3, key_count // 8)
        # None is the default workspace, which has no id in any report.
        self.workspaces: List[Optional[str]] = [None] + [_id(rng, "wrkspc_") for _ in range(workspace_count - 1)]
        self.api_keys: List[Tuple[str, Optional[str]]] = [
            (_id(rng, "apikey_"), self.workspaces[i % workspace_count]) for i in range(key_count)
        ]
        self.accounts: List[str] = [_id(rng, "user_") for _ in range(max(3, key_count // 4))]
        self.service_accounts: List[str] = [_id(rng, "svac_") for _ in range(2)]
        # Every (model, key, tier, window) the organization can use; Console usage has no key.
        combos = []
        for model, _, _, long_context in MODELS:
            windows = ("0-200k", "200k-1M") if long_context else ("0-200k",)
            keys = self.api_keys + [(None, workspace) for workspace in self.workspaces]
            for key_id, workspace_id in keys:
                for tier in SERVICE_TIERS:
                    for window in windows:
                        combos.append((model, workspace_id, key_id, tier, window))
        self._combos = combos

    # -- rows ---------------------------------------------------------------------------------------

    def day_range(self) -> List[date]:
        return [self.first_day + timedelta(days=offset) for offset in range(self.days)]

    def day_seed(self, day: date) -> str:
        """What a day's random rows are drawn from: the seed and the day's offset from the first day. Not the
        date, or the rows of "the first day" (and what a test finds there) would change with the calendar."""
        return f"{self.seed}:{(day - self.first_day).days}"

    def usage_rows(self, day: date) -> List[UsageRow]:
        if not self.first_day <= day <= self.last_day:
            return []
        with self._lock:
            if day not in self._usage:
                self._usage[day] = self._generate_usage(day)
            return self._usage[day]

    def cost_rows(self, day: date) -> List[CostRow]:
        if not self.first_day <= day <= self.last_day:
            return []
        usage = self.usage_rows(day)
        with self._lock:
            if day not in self._cost:
                self._cost[day] = self._price(day, usage)
            return self._cost[day]

    def restate(self, day: date) -> None:
        """Late-arriving usage for a day, as the real reports fill in: more tokens on some of the day's groups and
        a few new ones. Groups are never removed, so Append + Deduped on row_key converges on the final data."""
        with self._lock:
            self._restatements[day] = self._restatements.get(day, 0) + 1
            rng = random.Random(f"{self.day_seed(day)}:late:{self._restatements[day]}")
            rows = self._usage.pop(day, None)
            self._cost.pop(day, None)
            self.version += 1
        rows = rows if rows is not None else self.usage_rows(day)
        late = [row._replace(at=row.at + timedelta(seconds=1), output_tokens=rng.randint(1, 5000),
                             uncached_input_tokens=rng.randint(1, 5000))
                for row in rng.sample(rows, max(1, len(rows) // 10))] if rows else []
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        for model, workspace_id, key_id, tier, window in rng.sample(self._combos, min(3, len(self._combos))):
            late.append(UsageRow(midnight + timedelta(minutes=rng.randrange(24 * 60)), model, workspace_id, key_id,
                                 tier, window, rng.choice(INFERENCE_GEOS), None, None,
                                 rng.randint(1, 9000), 0, 0, 0, rng.randint(1, 900), 0))
        with self._lock:
            self._usage[day] = rows + late

    # -- generation ---------------------------------------------------------------------------------

    def _generate_usage(self, day: date) -> List[UsageRow]:
        rng = random.Random(self.day_seed(day))
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        count = min(len(self._combos), max(1, int(self.rows_per_day * rng.uniform(0.9, 1.1))))
        rows = []
        for model, workspace_id, key_id, tier, window in rng.sample(self._combos, count):
            # One to three atomic rows per combination, differing in dimensions the report does not group by.
            for _ in range(rng.choice((1, 1, 2, 3))):
                account = rng.choice(self.accounts) if rng.random() < 0.3 else None
                service_account = rng.choice(self.service_accounts) if rng.random() < 0.05 else None
                scale = 10 ** rng.randint(2, 6)
                rows.append(
                    UsageRow(
                        at=midnight + timedelta(minutes=rng.randrange(24 * 60)),
                        model=model,
                        workspace_id=workspace_id,
                        api_key_id=key_id,
                        service_tier=tier,
                        context_window=window,
                        inference_geo=rng.choice(INFERENCE_GEOS),
                        account_id=account,
                        service_account_id=service_account,
                        uncached_input_tokens=rng.randint(0, scale),
                        cache_read_input_tokens=rng.randint(0, scale * 3) if rng.random() < 0.6 else 0,
                        cache_creation_5m_input_tokens=rng.randint(0, scale) if rng.random() < 0.4 else 0,
                        cache_creation_1h_input_tokens=rng.randint(0, scale) if rng.random() < 0.2 else 0,
                        output_tokens=rng.randint(0, scale // 3 + 1),
                        web_search_requests=rng.randint(1, 40) if rng.random() < 0.1 else 0,
                    )
                )
        return rows

    def _price(self, day: date, usage: List[UsageRow]) -> List[CostRow]:
        """Cost lines at the cost report's full dimensionality: one per workspace and description, in cents."""
        names = {model: name for model, name, _, _ in MODELS}
        lines: Dict[Tuple[Optional[str], str], CostRow] = {}

        def add(line: CostRow) -> None:
            key = (line.workspace_id, line.description)
            known = lines.get(key)
            lines[key] = line if known is None else known._replace(amount_cents=known.amount_cents + line.amount_cents)

        for row in usage:
            if row.service_tier == "priority":
                continue  # Priority Tier costs are not in the cost report.
            for cost_type, token_type, cents in row_costs(row):
                if cost_type == "web_search":
                    add(CostRow(day, row.workspace_id, "Web Search Usage", "web_search", None, None, None, None, None,
                                cents))
                    continue
                label = TOKEN_LABELS[token_type]
                add(CostRow(
                    day=day,
                    workspace_id=row.workspace_id,
                    description=_token_description(names[row.model], label, row.service_tier, row.context_window,
                                                   row.inference_geo),
                    cost_type="tokens",
                    model=row.model,
                    token_type=token_type,
                    service_tier=row.service_tier,
                    context_window=row.context_window,
                    inference_geo=row.inference_geo,
                    amount_cents=cents,
                ))
        for workspace_id, cents in self.code_execution(day):
            add(CostRow(day, workspace_id, "Code Execution Usage", "code_execution", None, None, None, None, None,
                        cents))
        return list(lines.values())

    def code_execution(self, day: date) -> List[Tuple[Optional[str], Decimal]]:
        """The day's code execution cost per workspace, in cents: it belongs to no model, key or person."""
        if not self.first_day <= day <= self.last_day:
            return []
        rng = random.Random(f"{self.day_seed(day)}:code")
        costs = []
        for workspace_id in self.workspaces:
            if rng.random() < 0.5:
                hours = Decimal(rng.randint(1, 4000)) / Decimal(1000)
                costs.append((workspace_id, hours * CODE_EXECUTION_CENTS_PER_HOUR))
        return costs


def row_costs(row: UsageRow) -> List[Tuple[str, Optional[str], Decimal]]:
    """What one atomic usage row costs: (cost_type, token_type, cents) for each priced part it has, at the price
    the organization pays (priority tier rows are priced too; the legacy cost report leaves them out)."""
    input_price = MODEL_PRICES[row.model]
    tier_factor = Decimal("0.5") if row.service_tier == "batch" else Decimal("1")
    window_factor = Decimal("2") if row.context_window == "200k-1M" else Decimal("1")
    tokens = {
        "uncached_input_tokens": row.uncached_input_tokens,
        "output_tokens": row.output_tokens,
        "cache_read_input_tokens": row.cache_read_input_tokens,
        "cache_creation.ephemeral_5m_input_tokens": row.cache_creation_5m_input_tokens,
        "cache_creation.ephemeral_1h_input_tokens": row.cache_creation_1h_input_tokens,
    }
    costs: List[Tuple[str, Optional[str], Decimal]] = [
        ("tokens", token_type, tokens[token_type] * input_price * multiplier * tier_factor * window_factor)
        for token_type, _, multiplier in TOKEN_PRICES if tokens[token_type]
    ]
    if row.web_search_requests:
        costs.append(("web_search", None, row.web_search_requests * WEB_SEARCH_CENTS))
    return costs


def _token_description(model_name: str, label: str, tier: str, window: str, geo: str) -> str:
    qualifiers = [q for q in (
        "Batch" if tier == "batch" else None,
        "Long Context" if window == "200k-1M" else None,
        "US" if geo == "us" else None,
        "Geo N/A" if geo == "not_available" else None,
    ) if q]
    suffix = f" ({', '.join(qualifiers)})" if qualifiers else ""
    return f"{model_name} Usage - {label}{suffix}"


def _id(rng: random.Random, prefix: str) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghijkmnopqrstuvwxyz"
    return prefix + "01" + "".join(rng.choice(alphabet) for _ in range(22))
