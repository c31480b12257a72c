"""A Claude Enterprise organization's engagement, day by day: its people, projects, skills, connectors, plugins and
artifacts, as the Enterprise Analytics API reports them (`shared/reference/analytics-api.md` §9).

Built from the organization's seed, and each day from `Organization.day_seed`, so the same knobs give the same
rows. Who is active on a day is a bit mask over the seat holders (a few random words ANDed and ORed together),
which makes a year of daily, weekly and monthly active counts cost milliseconds; a day's rows are built only when
asked for, and the latest few kept. Every 7 days hold a weekday (Wednesday) with more than 1,000 active users, at
every revision stage, so a client pages at limit=1000 whichever week it reads.

Revisions: a day is provisional until it is FINAL_STAGE days behind its endpoint's latest available day. Before
that its counts fall short of the final ones by a few percent per missing stage, and a few of its users (the late
ones) are not reported yet; as the clock moves on the counts grow and the late users appear, never disappear.
"""

import base64
import random
import threading
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import orjson

from .organization import Organization

FLOOR = date(2026, 1, 1)  # ✅ "No earlier than 2026-01-01"
DAY = timedelta(days=1)
ENDPOINTS = ("users", "summaries", "apps/chat/projects", "skills", "connectors", "plugins", "artifacts")
# How many days before the clock's UTC day each endpoint's latest available day is (✅ "typically a 1-day lag,
# varies by query"; 🟡 an older article: queryable three days later). The stand-in's choice, settable per endpoint.
DEFAULT_LAG_DAYS = {**dict.fromkeys(ENDPOINTS, 2), "summaries": 1}
FINAL_STAGE = 3  # days behind the latest available day after which a day is no longer revised
SEAT_HOLDERS = 1800
PEAK_WEEKDAY = 2  # Wednesday: the busiest day of every week
PEAK_MINIMUM = 1001
PROJECTS = 320

FIRST_NAMES = ("ada", "ben", "chloe", "dev", "emma", "farid", "grace", "hiro", "ines", "jonas", "kemi", "liam",
               "maya", "nils", "olga", "priya", "quinn", "rosa", "sam", "tariq", "uma", "victor", "wen", "xena",
               "yusuf", "zoe", "alba", "bruno", "carla", "diego")
LAST_NAMES = ("adams", "brown", "chen", "diaz", "evans", "fischer", "garcia", "haddad", "ito", "jones", "kim",
              "lopez", "moreau", "novak", "okafor", "patel", "quist", "rossi", "silva", "tanaka", "ueda", "vogel",
              "weber", "xu", "young", "zhang", "abebe", "berg", "costa", "dubois")
CHAT_COUNTS = ("connectors_used_count", "distinct_artifacts_created_count", "distinct_connectors_used_count",
               "distinct_conversation_count", "distinct_files_uploaded_count", "distinct_projects_created_count",
               "distinct_projects_used_count", "distinct_shared_artifacts_viewed_count", "distinct_skills_used_count",
               "message_count", "shared_conversations_viewed_count", "thinking_message_count")
EDIT_TOOLS = ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")
SKILLS = ("acme-contract-review", "acme-onboarding", "acme-quarterly-report", "algorithmic-art", "brand-guidelines",
          "canvas-design", "doc-coauthoring", "docx", "frontend-design", "internal-comms", "mcp-builder", "pdf",
          "pptx", "skill-creator", "slack-gif-creator", "theme-factory", "webapp-testing", "xlsx")
CONNECTORS = (("acme-warehouse", "Acme Warehouse"), ("asana", "Asana"), ("atlassian", "Atlassian"), ("box", "Box"),
              ("github", "GitHub"), ("gmail", "Gmail"), ("google-calendar", "Google Calendar"),
              ("google-drive", "Google Drive"), ("hubspot", "HubSpot"), ("intercom", "Intercom"),
              ("linear", "Linear"), ("notion", "Notion"), ("salesforce", "Salesforce"), ("slack", "Slack"),
              ("zapier", "Zapier"))
THIRD_PARTY_PLUGIN = "third-party"  # ✅ an aggregate bucket, without a plugin id
PLUGINS = ("customer-support", "data", "engineering", "finance", "legal", "marketing", "product-management",
           "sales", THIRD_PARTY_PLUGIN)
ARTIFACT_TYPES = ("code", "document", "html", "mermaid", "react", "svg")
# Members nobody has documented, on some rows: a client must carry them through, not drop or refuse them.
UNDOCUMENTED_USER_OBJECT = "design_metrics"  # documented by name only; its members are not
UNDOCUMENTED_USER_COUNT = "voice_message_count"
UNDOCUMENTED_SKILL_OBJECT = "office_metrics"
UNDOCUMENTED_CONNECTOR_COUNT = "failed_call_count"
UNDOCUMENTED_PLUGIN_COUNT = "command_invocation_count"

Row = Dict[str, Any]


class Traits(NamedTuple):
    """Who does what, as masks over the seat holders (bit i: the i-th person by email)."""
    regulars: int  # use Claude most weekdays
    occasional: int  # now and then: weekly and monthly active counts differ
    code_users: int  # the others never used Claude Code: claude_code_metrics null
    cowork_users: int  # the others: cowork_metrics null
    undocumented: int  # rows that carry UNDOCUMENTED_USER_OBJECT


class Engagement:
    """The engagement reports of one organization at the stand-in's clock.

    For tests: `rows(endpoint, day)` and `range_rows(endpoint, starting_date, ending_date)` are exactly the rows the
    stand-in serves now (all pages, in order), as copies a test may change; `latest_day(endpoint)` is the newest day it serves, which
    `set_latest_day` pins (None follows the clock again). `endpoint` is a path or its name after `analytics/`.
    """

    def __init__(self, organization: Organization, clock: Callable[[], datetime]) -> None:
        self.organization = organization
        self.clock = clock
        self.lag_days = dict(DEFAULT_LAG_DAYS)
        self._pinned: Dict[str, date] = {}
        self._lock = threading.Lock()
        self._masks: Dict[Tuple[date, str], int] = {}
        self._rows: "OrderedDict[Tuple[Any, ...], List[Row]]" = OrderedDict()

    # Built on first use: most stand-ins never serve engagement, and every test starts one.

    @cached_property
    def people(self) -> List[Tuple[str, str]]:
        """(user id, email) of every seat holder, by email: bit i of every mask is the i-th person, so a mask's set
        bits come out in the users' row order."""
        rng = random.Random(f"{self.organization.seed}:engagement:people")
        names = [f"{FIRST_NAMES[i % 30]}.{LAST_NAMES[i // 30 % 30]}{i // 900 or ''}@acme.example"
                 for i in range(SEAT_HOLDERS)]
        return [(_id(rng, "user_"), email) for email in sorted(names)]

    @cached_property
    def traits(self) -> "Traits":
        rng = random.Random(f"{self.organization.seed}:engagement:traits")
        bits = lambda: rng.getrandbits(SEAT_HOLDERS)  # noqa: E731
        engaged = bits() | bits() | bits()  # the rest hold a seat and never use it
        regulars = engaged & (bits() | bits())
        return Traits(regulars=regulars, occasional=engaged & ~regulars, code_users=bits() | bits(),
                      cowork_users=bits() & bits(), undocumented=bits() & bits() & bits())

    @cached_property
    def projects(self) -> List[Row]:
        rng = random.Random(f"{self.organization.seed}:engagement:projects")
        founded = datetime.combine(FLOOR - timedelta(days=200), datetime.min.time(), timezone.utc)
        projects = []
        for index in range(PROJECTS):
            creator_id, creator_email = self.people[rng.randrange(SEAT_HOLDERS)]
            created = founded + timedelta(seconds=rng.randrange(500 * 86400))
            projects.append({"project_id": _id(rng, "claude_proj_"), "project_name": f"Project {index:03d}",
                             "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "created_by": {"id": creator_id, "email_address": creator_email}})
        return sorted(projects, key=lambda project: project["project_id"])

    # -- the API for tests -------------------------------------------------------------------------------

    def latest_day(self, endpoint: str) -> date:
        name = endpoint_name(endpoint)
        return self._pinned.get(name) or self.clock().date() - timedelta(days=self.lag_days[name])

    def set_latest_day(self, endpoint: str, day: Optional[date]) -> None:
        name = endpoint_name(endpoint)
        if day is None:
            self._pinned.pop(name, None)
        else:
            self._pinned[name] = day

    def rows(self, endpoint: str, day: date, copy: bool = True) -> List[Row]:
        """The rows served for one day (for summaries: the day's one row); copy=False shares the stand-in's own."""
        name = endpoint_name(endpoint)
        self._check_served(name, day)
        rows = self._day_rows(name, day, self.stage(name, day))
        return orjson.loads(orjson.dumps(rows)) if copy else rows

    def range_rows(self, endpoint: str, starting_date: date, ending_date: date, copy: bool = True) -> List[Row]:
        """The rows served for [starting_date, ending_date): for summaries one per day, else one per entity."""
        rows = self._range_rows(endpoint_name(endpoint), starting_date, ending_date)
        return orjson.loads(orjson.dumps(rows)) if copy else rows

    def _range_rows(self, name: str, starting_date: date, ending_date: date) -> List[Row]:
        days = [starting_date + timedelta(days=offset) for offset in range((ending_date - starting_date).days)]
        for day in days[:1] + days[-1:]:
            self._check_served(name, day)
        if name == "summaries":
            return [row for day in days for row in self._day_rows(name, day, self.stage(name, day))]
        combined: Dict[Any, Row] = {}
        for day in days:
            for row in self._day_rows(name, day, self.stage(name, day)):
                key = sort_key(name, row)
                combined[key] = row if key not in combined else _combine(combined[key], row)
        return [combined[key] for key in sorted(combined)]

    def stage(self, endpoint: str, day: date) -> int:
        """How far a day's revisions have gone: FINAL_STAGE once it is that many days behind the latest day.
        Summaries are revised with the users they count, so they go by the users' latest day."""
        return max(0, min(FINAL_STAGE, (self._revised_until(endpoint_name(endpoint)) - day).days))

    def _revised_until(self, name: str) -> date:
        return self.latest_day("users" if name == "summaries" else name)

    def _check_served(self, name: str, day: date) -> None:
        if not FLOOR <= day <= self.latest_day(name):
            raise ValueError(f"{name} serves {FLOOR} to {self.latest_day(name)}, not {day}")

    # -- a day's rows -------------------------------------------------------------------------------------

    def _day_rows(self, name: str, day: date, stage: int) -> List[Row]:
        # A summary also counts the 29 days before it, whose stages follow from the users' latest day.
        key = (name, day, stage, self._revised_until(name))
        with self._lock:
            if key in self._rows:
                self._rows.move_to_end(key)
                return self._rows[key]
        if name == "summaries":
            rows = [self._summary(day)]
        else:
            final = BUILDERS[name](self, day, random.Random(f"{self.organization.day_seed(day)}:{name}"))
            rows = self._revised(name, day, stage, final)
        with self._lock:
            self._rows[key] = rows
            while len(self._rows) > 16:  # a users day is about 1.5 MB
                self._rows.popitem(last=False)
        return rows

    def _revised(self, name: str, day: date, stage: int, final: List[Row]) -> List[Row]:
        if stage >= FINAL_STAGE:
            return final
        rng = random.Random(f"{self.organization.day_seed(day)}:{name}:revisions")
        missing = 0 if name != "users" else self._late_mask(day, stage)
        rows = []
        for index, row in zip(_bits(self._mask(day, "active")) if name == "users" else range(len(final)), final):
            percent = (FINAL_STAGE - stage) * rng.choice((1, 2, 3))  # drawn for every row, so stable per row
            if not missing >> index & 1:
                rows.append(_short_by(row, percent))
        return rows

    def active_mask(self, day: date, stage: int = FINAL_STAGE) -> int:
        """The people reported active on a day at a revision stage (bit i: the i-th person by email)."""
        return self._mask(day, "active") & ~self._late_mask(day, stage)

    def _mask(self, day: date, kind: str) -> int:
        with self._lock:
            if (day, kind) in self._masks:
                return self._masks[(day, kind)]
        rng = random.Random(f"{self.organization.day_seed(day)}:{kind}")
        bits = lambda: rng.getrandbits(SEAT_HOLDERS)  # noqa: E731
        if kind == "active":
            regulars, occasional = self.traits.regulars, self.traits.occasional
            weekday = day.weekday()
            if weekday >= 5:
                mask = bits() & bits() & regulars | bits() & bits() & bits() & bits() & bits() & occasional
            elif weekday == PEAK_WEEKDAY:
                mask = (bits() | bits() | bits() & bits()) & regulars | bits() & bits() & bits() & occasional
                while (mask & ~self._late_mask(day, 0)).bit_count() < PEAK_MINIMUM:  # even before revisions
                    mask |= bits() & bits() & occasional
            else:
                mask = (bits() | bits() & bits()) & regulars | bits() & bits() & bits() & bits() & occasional
        else:  # "late:<stage>": users first reported at that stage
            mask = bits() & bits() & bits() & bits() & bits() & bits()
        with self._lock:
            self._masks[(day, kind)] = mask
        return mask

    def _late_mask(self, day: date, stage: int) -> int:
        late = 0
        for later in range(stage + 1, FINAL_STAGE + 1):
            late |= self._mask(day, f"late:{later}")
        return late

    def _summary(self, day: date) -> Row:
        unions, union = {}, 0
        for back in range(max(days for _, days in PERIODS)):
            earlier = day - timedelta(days=back)
            union |= self.active_mask(earlier, self.stage("summaries", earlier))
            unions[back + 1] = union
        rng = random.Random(f"{self.organization.day_seed(day)}:summaries")
        seats = SEAT_HOLDERS
        counts = {f"{period}_active_user_count": unions[days].bit_count() for period, days in PERIODS}
        return {
            "starting_at": f"{day.isoformat()}T00:00:00Z",
            "ending_at": f"{(day + DAY).isoformat()}T00:00:00Z",
            **counts,
            **{f"{period}_adoption_rate": round(counts[f"{period}_active_user_count"] / seats, 4)
               for period, _ in PERIODS},
            "assigned_seat_count": seats,
            "pending_invite_count": rng.randint(3, 40),
            **{f"cowork_{period}_active_user_count": (unions[days] & self.traits.cowork_users).bit_count()
               for period, days in PERIODS},
            **{f"claude_code_{period}_active_user_count": (unions[days] & self.traits.code_users).bit_count()
               for period, days in PERIODS},
        }


PERIODS = (("daily", 1), ("weekly", 7), ("monthly", 30))


def _users(engagement: Engagement, day: date, rng: random.Random) -> List[Row]:
    n = lambda top: int(rng.random() * top)  # noqa: E731 (random() is ten times faster than randint)
    rows = []
    for index in _bits(engagement._mask(day, "active")):
        user_id, email = engagement.people[index]
        heavy = 1 + n(5)
        row: Row = {
            "user": {"id": user_id, "email_address": email, "type": "user"},
            "chat_metrics": {name: n(6 * heavy) for name in CHAT_COUNTS},
            "claude_code_metrics": None,
            "cowork_metrics": None,
            "web_search_count": n(4 * heavy),
            "last_activity_date": day.isoformat(),
        }
        row["chat_metrics"]["message_count"] += 1 + n(40 * heavy)
        if engagement.traits.code_users >> index & 1:
            row["claude_code_metrics"] = {
                "core_metrics": {"commit_count": n(9), "distinct_session_count": n(12),
                                 "lines_of_code": {"added_count": n(900 * heavy), "removed_count": n(300 * heavy)},
                                 "pull_request_count": n(4)},
                "tool_actions": {tool: {"accepted_count": n(30), "rejected_count": n(5)} for tool in EDIT_TOOLS},
            }
        if engagement.traits.cowork_users >> index & 1:
            row["cowork_metrics"] = {"distinct_session_count": n(6), "message_count": n(60)}
        if engagement.traits.undocumented >> index & 1:
            row[UNDOCUMENTED_USER_OBJECT] = {"distinct_design_count": n(5), "exported_design_count": n(3)}
        if index % 11 == 0:
            row[UNDOCUMENTED_USER_COUNT] = n(20)
        rows.append(row)
    return rows


def _projects(engagement: Engagement, day: date, rng: random.Random) -> List[Row]:
    chance = 0.12 if day.weekday() >= 5 else 0.5
    created_by_then = f"{(day + DAY).isoformat()}T00:00:00Z"
    rows = []
    for project in engagement.projects:
        if project["created_at"] < created_by_then and rng.random() < chance:
            users = 1 + rng.randrange(40)
            conversations = users + rng.randrange(3 * users)
            rows.append({**project, "message_count": conversations * (2 + rng.randrange(12)),
                         "distinct_user_count": users, "distinct_conversation_count": conversations})
    return [{key: row[key] for key in PROJECT_MEMBERS} for row in rows]


PROJECT_MEMBERS = ("project_id", "project_name", "message_count", "distinct_user_count", "distinct_conversation_count",
                   "created_at", "created_by")


def _skills(engagement: Engagement, day: date, rng: random.Random) -> List[Row]:
    rows = []
    for skill in SKILLS:
        if rng.random() < 0.25:
            continue
        users = 5 + rng.randrange(200)
        row: Row = {"skill_name": skill, "distinct_user_count": users,
                    "chat_metrics": {"distinct_conversation_count": users + rng.randrange(users * 2),
                                     "message_count": users * (3 + rng.randrange(20))},
                    "claude_code_metrics": {"distinct_session_count": rng.randrange(users * 2),
                                            "invocation_count": rng.randrange(users * 5)}
                    if rng.random() < 0.6 else None,
                    "cowork_metrics": {"message_count": rng.randrange(users * 3)} if rng.random() < 0.3 else None}
        if rng.random() < 0.3:
            row[UNDOCUMENTED_SKILL_OBJECT] = {"distinct_document_count": rng.randrange(users)}
        rows.append(row)
    return rows


def _connectors(engagement: Engagement, day: date, rng: random.Random) -> List[Row]:
    rows = []
    for connector, display_name in CONNECTORS:
        if rng.random() < 0.2:
            continue
        users = 3 + rng.randrange(300)
        managed = rng.randrange(users + 1)
        row: Row = {"connector_name": connector, "connector_display_name": display_name,
                    "distinct_user_count": users,
                    "chat_metrics": {"distinct_conversation_count": users + rng.randrange(users * 2),
                                     "message_count": users * (2 + rng.randrange(15))},
                    "read_call_count": users * rng.randrange(1, 30), "write_call_count": rng.randrange(users * 4),
                    "unclassified_call_count": rng.randrange(users),
                    "managed_auth_distinct_user_count": managed, "individual_auth_distinct_user_count": users - managed}
        if rng.random() < 0.3:
            row[UNDOCUMENTED_CONNECTOR_COUNT] = rng.randrange(50)
        rows.append(row)
    return rows


def _plugins(engagement: Engagement, day: date, rng: random.Random) -> List[Row]:
    rows = []
    for plugin in PLUGINS:
        if rng.random() < 0.2 and plugin != THIRD_PARTY_PLUGIN:
            continue
        users = 2 + rng.randrange(150)
        row: Row = {"plugin_name": plugin,
                    "plugin_id": None if plugin == THIRD_PARTY_PLUGIN else "plugin_01" + _b32(plugin),
                    "distinct_user_count": users,
                    "chat_metrics": {"distinct_conversation_count": users + rng.randrange(users * 2),
                                     "message_count": users * (2 + rng.randrange(10))},
                    "cowork_metrics": {"message_count": rng.randrange(users * 4)} if rng.random() < 0.4 else None}
        if rng.random() < 0.3:
            row[UNDOCUMENTED_PLUGIN_COUNT] = rng.randrange(users * 3)
        rows.append(row)
    return rows


def _artifacts(engagement: Engagement, day: date, rng: random.Random) -> List[Row]:
    rows = []
    for artifact_type in ARTIFACT_TYPES:
        for shared in (False, True):
            created = rng.randrange(400 if not shared else 120)
            rows.append({"artifact_type": artifact_type, "is_shared": shared, "artifacts_created_count": created,
                         "published_artifacts_created_count": rng.randrange(created + 1) if shared else 0,
                         "distinct_user_count": min(created, 1 + rng.randrange(150))})
    return rows


BUILDERS = {"users": _users, "apps/chat/projects": _projects, "skills": _skills, "connectors": _connectors,
            "plugins": _plugins, "artifacts": _artifacts}
SORT_KEYS: Dict[str, Callable[[Row], Any]] = {
    "users": lambda row: row["user"]["email_address"],
    "apps/chat/projects": lambda row: row["project_id"],
    "skills": lambda row: row["skill_name"],
    "connectors": lambda row: row["connector_name"],
    "plugins": lambda row: row["plugin_name"],
    "artifacts": lambda row: (row["artifact_type"], row["is_shared"]),
    "summaries": lambda row: row["starting_at"],
}


def sort_key(endpoint: str, row: Row) -> Any:
    """The key rows of an endpoint are ordered (and paged) by."""
    return SORT_KEYS[endpoint_name(endpoint)](row)


def endpoint_name(endpoint: str) -> str:
    name = endpoint.rsplit("/analytics/", 1)[-1]
    if name not in DEFAULT_LAG_DAYS:
        raise ValueError(f"not an engagement endpoint: {endpoint}")
    return name


def _short_by(value: Any, percent: int) -> Any:
    """A provisional count: the final one less `percent` per cent, rounded down (so never above the final)."""
    if isinstance(value, dict):
        return {key: _short_by(member, percent) for key, member in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return value - value * percent // 100
    return value


def _combine(total: Any, more: Any, name: str = "") -> Any:
    """Two days of one entity as range mode reports them: counts add up, distinct counts are recomputed (here:
    the larger plus half the smaller, as overlapping sets would), the last activity is the later one."""
    if total is None or more is None:
        return more if total is None else total
    if isinstance(total, dict):
        return {key: _combine(total.get(key), more.get(key), key) for key in {**total, **more}}
    if isinstance(total, int) and not isinstance(total, bool):
        return max(total, more) + min(total, more) // 2 if "distinct" in name else total + more
    return max(total, more) if name == "last_activity_date" else total


def _bits(mask: int) -> List[int]:
    """The indexes of a mask's set bits, lowest first."""
    return [index for index, bit in enumerate(reversed(bin(mask)[2:])) if bit == "1"]


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "01" + base64.b32encode(rng.getrandbits(140).to_bytes(18, "big")).decode()[:22]


def _b32(text: str) -> str:
    return base64.b32encode(text.encode().ljust(14, b"0")[:14]).decode()[:22]
