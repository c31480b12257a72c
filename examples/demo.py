"""`make demo`: a realistic organization, synced through PyAirbyte into DuckDB, and the two FinOps reports.

1. starts the local stand-in of the Anthropic Admin API with 120 days of a synthetic organization, through today;
2. syncs every stream with PyAirbyte (the installed `source-claude`, offline) into PyAirbyte's default local DuckDB
   cache (under .demo/);
3. prints tokens by model and context window for the last 30 days, tokens by model for the last 24 whole hours
   (messages_usage_hourly), cost in USD by cost type, model and token type, and the top API keys and users by cost
   over the last 30 days (from cost_analytics, the Usage and Cost Analytics API), and the model group nearest its
   rate limits: its busiest hour's average tokens per minute beside its per-minute limits; writes PNG charts of daily
   cost by model and of hourly tokens by model;
4. syncs the same organization's Claude Enterprise engagement (the seven engagement streams, its Analytics key) for
   its last 60 days; prints its daily, weekly and monthly active users and adoption rates and its top skills and
   connectors by daily distinct users over the last 30 days; writes a PNG chart of active users and adoption;
5. checks the warehouse totals against the stand-in's own rows, and stops the stand-in.
"""

import os
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / ".demo"
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # no registry lookups: the connector is a local executable
os.environ.setdefault("AIRBYTE_PROJECT_DIR", str(OUTPUT))  # PyAirbyte's default DuckDB cache goes under .demo/

import airbyte as ab  # noqa: E402  (after the environment it reads)
from sqlalchemy import text  # noqa: E402

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
from claude_reports import (  # noqa: E402
    ACTIVE_USERS_BY_WEEK_SQL,
    ANALYTICS_COST_SQL,
    BUSIEST_HOUR_VS_LIMIT_SQL,
    COST_BY_TYPE_SQL,
    DAILY_COST_BY_MODEL_SQL,
    ENGAGEMENT_SUMMARIES_SQL,
    HOURLY_TOKENS_BY_MODEL_SQL,
    TOKENS_BY_MODEL_SQL,
    TOP_BY_DAILY_USERS_SQL,
    TOP_COST_BY_API_KEY_SQL,
    TOP_COST_BY_USER_SQL,
    local_stand_in,
    write_adoption_chart,
    write_daily_cost_chart,
    write_hourly_tokens_chart,
)
from integration_tests.fake_admin_api import (  # noqa: E402
    DEFAULT_ADMIN_KEY, DEFAULT_ANALYTICS_KEY, ENGAGEMENT_FLOOR, Directory, Engagement, Limits, Organization,
)
from integration_tests.ground_truth import (  # noqa: E402
    analytics_days, days_from, expected_cost, expected_usage, expected_usage_hourly,
)

ORGANIZATION = dict(seed=2026, days=120, rows_per_day=150)
CONNECTOR = str(Path(sys.executable).with_name("source-claude"))
# The Claude Enterprise engagement streams and the endpoints (after /v1/organizations/analytics/) they read.
ENGAGEMENT = {"user_activity": "users", "summaries": "summaries", "chat_projects": "apps/chat/projects",
              "skills": "skills", "connectors": "connectors", "plugins": "plugins", "artifacts": "artifacts"}
ENTERPRISE_DAYS = 60
TOP = 5


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    # Through today, so the last 24 hours have usage: the API serves each hour once it has ended, a day once it has.
    organization = Organization(**ORGANIZATION, last_day=datetime.now(timezone.utc).date())
    # The hours the sync reads end at the last whole hour, this one or, if the hour turns while it runs, the next.
    until = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    since_hour = until - timedelta(hours=24)
    enterprise_start = max(ENGAGEMENT_FLOOR, organization.last_day - timedelta(days=ENTERPRISE_DAYS - 1))
    with local_stand_in(**ORGANIZATION, through_today=True) as api_url:
        print(f"Local Admin API stand-in at {api_url}: {ORGANIZATION['days']} days, "
              f"about {ORGANIZATION['rows_per_day']} usage rows a day.\n")
        source = ab.get_source(
            "source-claude",
            config={"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": organization.first_day.isoformat(),
                    "api_url": api_url},
            local_executable=CONNECTOR,
        )
        source.check()
        source.select_all_streams()
        cache = ab.get_default_cache()
        # replace: this sync alone must fill the tables (merging would keep rows of an earlier run).
        result = source.read(cache=cache, force_full_refresh=True, write_strategy="replace")
        # The same organization's Claude Enterprise engagement, which only its Analytics key reads.
        enterprise = ab.get_source(
            "source-claude",
            config={"admin_api_key": DEFAULT_ANALYTICS_KEY, "start_date": enterprise_start.isoformat(),
                    "api_url": api_url},
            local_executable=CONNECTOR,
        )
        enterprise.select_streams(list(ENGAGEMENT))
        engaged = enterprise.read(cache=cache, force_full_refresh=True, write_strategy="replace")
    print(f"\nSynced {len(result['messages_usage'])} daily and {len(result['messages_usage_hourly'])} hourly usage "
          f"rows and {len(result['cost_report'])} cost rows, and {len(engaged['summaries'])} days of Claude "
          f"Enterprise engagement ({len(engaged['user_activity']):,} user-days of activity) into {cache.db_path}.\n")

    since = date.today() - timedelta(days=30)
    with cache.get_sql_engine().connect() as connection:
        tokens = connection.execute(text(TOKENS_BY_MODEL_SQL), {"since": since.isoformat()}).all()
        costs = connection.execute(text(COST_BY_TYPE_SQL)).all()
        daily = connection.execute(text(DAILY_COST_BY_MODEL_SQL)).all()
        hourly = connection.execute(text(HOURLY_TOKENS_BY_MODEL_SQL),
                                    {"since": since_hour.isoformat(), "until": until.isoformat()}).all()
        top_keys = connection.execute(text(TOP_COST_BY_API_KEY_SQL), {"since": since.isoformat(), "top": 5}).all()
        top_users = connection.execute(text(TOP_COST_BY_USER_SQL), {"since": since.isoformat(), "top": 5}).all()
        [(analytics_usd,)] = connection.execute(text(ANALYTICS_COST_SQL), {"since": since.isoformat()}).all()
        busiest_group = connection.execute(text(BUSIEST_HOUR_VS_LIMIT_SQL)).first()
        summaries = connection.execute(text(ENGAGEMENT_SUMMARIES_SQL)).all()
        weeks = last_30_days(connection, "summaries", enterprise_start)
        weekly = connection.execute(text(ACTIVE_USERS_BY_WEEK_SQL), weeks).all()
        tops = {}
        for table, name in (("skills", "skill_name"), ("connectors", "connector_name")):
            window = last_30_days(connection, table, enterprise_start)
            sql = TOP_BY_DAILY_USERS_SQL.format(table=table, name=name)
            tops[table] = window, connection.execute(text(sql), {**window, "top": TOP}).all()

    yesterday = organization.last_day - timedelta(days=1)
    print_table(f"Tokens by model and context window, last 30 days (since {since})",
                ["model", "context window", "input tokens", "of which cache reads", "output tokens"],
                [[m, w, f"{i:,}", f"{c:,}", f"{o:,}"] for m, w, i, c, o in tokens])
    print_table(f"Tokens by model, the last 24 hours ({since_hour:%Y-%m-%d %H:%M} to {until:%H:%M} UTC)",
                ["model", "input tokens", "output tokens", "busiest hour (UTC)"],
                last_24_hours_by_model(hourly))
    print_table(f"Cost in USD by cost type, model and token type, {organization.first_day} to {yesterday}",
                ["cost type", "model", "token type", "USD"],
                [[t, m, k, f"{usd:,.2f}"] for t, m, k, usd in costs])
    print_table(f"Top API keys by cost in USD, last 30 days (since {since}; cost_analytics, beta)",
                ["API key", "USD"], [[key, f"{usd:,.2f}"] for key, usd in top_keys])
    print_table(f"Top users by cost in USD, last 30 days (since {since}; cost_analytics, beta)",
                ["user", "USD"], [[email, f"{usd:,.2f}"] for email, usd in top_users])
    print_busiest_group(busiest_group)
    print(f"Daily cost by model: {write_daily_cost_chart(daily, OUTPUT / 'daily_cost_by_model.png')}")
    print(f"Hourly tokens by model: {write_hourly_tokens_chart(hourly, OUTPUT / 'hourly_tokens_by_model.png')}\n")
    print_engagement(summaries, weeks, weekly, tops)
    print(f"Active users and adoption: {write_adoption_chart(summaries, OUTPUT / 'adoption.png')}\n")
    reconcile(organization, since, tokens, costs)
    reconcile_hours(organization, since_hour, until, hourly)
    reconcile_analytics(organization, since, Decimal(analytics_usd))
    reconcile_busiest_group(organization, busiest_group)
    reconcile_engagement(Engagement(organization, lambda: datetime.now(timezone.utc)), enterprise_start,
                         {stream: len(engaged[stream]) for stream in ENGAGEMENT}, summaries, tops)
    print("""
The stand-in is stopped. To sync your own organization instead:
  1. create an Admin key in the Claude Console: Settings > Admin keys (https://console.anthropic.com/settings/admin-keys);
     (a Claude Enterprise organization: a key with read:analytics from claude.ai > Organization settings > API,
     which reads usage_analytics, cost_analytics and the engagement streams);
  2. write config.json: {"admin_api_key": "sk-ant-admin01-...", "start_date": "2025-01-01"}
  3. .venv/bin/source-claude check --config config.json
     or in Python: ab.get_source("source-claude", config=..., local_executable=".venv/bin/source-claude")
     (examples/claude_usage.ipynb does the same in a notebook: set ANTHROPIC_ADMIN_KEY to use your key)
""")


def last_24_hours_by_model(hourly: Sequence) -> List[List[str]]:
    """Per model: input and output tokens of the 24 hours, and the hour that used the most."""
    models: dict = {}
    for hour, model, input_tokens, output_tokens in hourly:
        total = models.setdefault(model, {"input": 0, "output": 0, "busiest": (0, hour)})
        total["input"] += input_tokens
        total["output"] += output_tokens
        total["busiest"] = max(total["busiest"], (input_tokens + output_tokens, hour))
    return [[model, f"{t['input']:,}", f"{t['output']:,}", f"{t['busiest'][1].astimezone(timezone.utc):%H:%M}"]
            for model, t in sorted(models.items(), key=lambda item: -(item[1]["input"] + item[1]["output"]))]


def print_busiest_group(row: Sequence) -> None:
    """The model group nearest its limits: input and output, each in its busiest hour, as tokens per minute."""
    group, *rates = row
    print_table(f"The model group nearest its per-minute limits, {group}: its busiest hours in messages_usage_hourly "
                "(rate_limits)", ["tokens", "busiest hour (UTC)", "average per minute", "limit per minute",
                                  "share of the limit"],
                [[kind, f"{hour.astimezone(timezone.utc):%Y-%m-%d %H:%M}", f"{per_minute:,.0f}", f"{limit:,}",
                  f"{share:.1%}"] for kind, (hour, per_minute, limit, share) in
                 (("input", rates[:4]), ("output", rates[4:]))])
    print("An hourly average understates a minute's peak: the limits hold per minute, so the busiest minutes of that "
          "hour came\nat least as near to them as its average did, and may have reached them.\n")


def reconcile_busiest_group(organization: Organization, row: Sequence) -> None:
    """The busiest hours' tokens per minute and the limits beside them must be the stand-in's own: its usage rows of
    those hours for the group's models (batch left out), and its organization's values."""
    group_name, input_hour, input_rate, input_limit, _, output_hour, output_rate, output_limit, _ = row
    [group] = [g for g in Limits(Directory(organization)).groups if g.display_name == group_name]

    def per_minute(hour: datetime, tokens) -> Decimal:
        hour = hour.astimezone(timezone.utc)
        rows = [r for r in organization.usage_rows(hour.date()) if r.model in group.models
                and r.service_tier != "batch" and r.at.replace(minute=0, second=0) == hour]
        return Decimal(sum(map(tokens, rows))) / 60

    truth = (per_minute(input_hour, lambda r: r.uncached_input_tokens + r.cache_read_input_tokens
                        + r.cache_creation_5m_input_tokens + r.cache_creation_1h_input_tokens),
             group.limits["input_tokens_per_minute"],
             per_minute(output_hour, lambda r: r.output_tokens), group.limits["output_tokens_per_minute"])
    synced = (Decimal(input_rate), input_limit, Decimal(output_rate), output_limit)
    if any(abs(a - b) > Decimal("0.001") for a, b in zip(synced, truth)):
        sys.exit(f"MISMATCH of the busiest hours or limits of {group_name} with the stand-in's: {synced} vs {truth}")
    print(f"{group_name}'s busiest hours and limits match the stand-in's rows and rate limits.")


def last_30_days(connection, table: str, start: date) -> Dict[str, date]:
    """The 30 days ending with the newest day synced (the API's newest day lags today by one or two days, varying by
    report), none before the sync's start."""
    [(last,)] = connection.execute(text(f"SELECT MAX(date) FROM {table}")).all()
    return {"first": max(start, last - timedelta(days=29)), "last": last}


def print_engagement(summaries: Sequence, weeks: Mapping[str, date], weekly: Sequence, tops: Mapping) -> None:
    """Active users and adoption by week and on the newest day, and the top skills and connectors."""
    percent = "{:.2%}".format
    print_table(f"Claude Enterprise active users and adoption by week, last 30 days ({weeks['first']} to "
                f"{weeks['last']}; summaries)",
                ["week of", "days", "average DAU", "peak DAU", "WAU", "weekly adoption", "MAU", "monthly adoption"],
                [[f"{week}", f"{days}", f"{average:,.0f}", f"{peak:,}", f"{wau:,}", percent(wau_rate), f"{mau:,}",
                  percent(mau_rate)] for week, days, average, peak, wau, wau_rate, mau, mau_rate in weekly])
    day, dau, wau, mau, dau_rate, wau_rate, mau_rate, seats = summaries[-1]
    print(f"DAU, WAU and MAU: the people active that day, in the 7 and in the 30 days ending then (per week: on its "
          f"last day).\nNewest day, {day}: {dau:,} daily, {wau:,} weekly and {mau:,} monthly active users of {seats:,} "
          f"assigned seats;\nadoption {percent(dau_rate)} daily, {percent(wau_rate)} weekly, {percent(mau_rate)} "
          f"monthly.\n")
    print("The API counts distinct users per day: the tables below give their average over the days and their peak, "
          "never a sum.")
    for table, (window, rows) in tops.items():
        days = (window["last"] - window["first"]).days + 1
        print_table(f"Top {table} by daily distinct users, last 30 days ({window['first']} to {window['last']})",
                    [table[:-1], "average daily users", "peak daily users", "days used"],
                    [[name, f"{user_days / days:,.1f}", f"{peak:,}", f"{used} of {days}"]
                     for name, user_days, peak, used in rows])


def reconcile(organization: Organization, since: date, tokens: Sequence, costs: Sequence) -> None:
    """The warehouse totals must equal the stand-in's own rows: every token, every cent (of the days that have
    ended: the daily reports do not serve today)."""
    ended = [day for day in organization.day_range() if day < organization.last_day]
    recent = [day for day in ended if day >= since]
    truth_tokens = sum(sum(v.values()) - v["web_search_requests"]
                       for v in expected_usage(organization, recent).values())
    truth_usd = sum(v["amount"] for v in expected_cost(organization, ended).values()) / 100
    synced_tokens = sum(row[2] + row[4] for row in tokens)
    synced_usd = sum(Decimal(row[3]) for row in costs)
    if (synced_tokens, synced_usd) != (truth_tokens, truth_usd):
        sys.exit(f"MISMATCH with the stand-in's ground truth: tokens {synced_tokens:,} vs {truth_tokens:,}, "
                 f"USD {synced_usd} vs {truth_usd}")
    print(f"Totals match the stand-in's ground truth exactly: {synced_tokens:,} tokens in the last 30 days, "
          f"${synced_usd:,.10f} in all.")


def reconcile_hours(organization: Organization, since: datetime, until: datetime, hourly: Sequence) -> None:
    """The last 24 hours' tokens in the warehouse must equal the stand-in's rows of those hours."""
    days = {since.date(), (until - timedelta(hours=1)).date()}
    truth = sum(sum(v.values()) - v["web_search_requests"]
                for (hour, *_), v in expected_usage_hourly(organization, sorted(days)).items()
                if f"{since:%Y-%m-%dT%H}:00:00Z" <= hour < f"{until:%Y-%m-%dT%H}:00:00Z")
    synced = sum(row[2] + row[3] for row in hourly)
    if synced != truth:
        sys.exit(f"MISMATCH with the stand-in's ground truth in the last 24 hours: tokens {synced:,} vs {truth:,}")
    print(f"The last 24 hours match it too: {synced:,} tokens.")


def reconcile_analytics(organization: Organization, since: date, synced_usd: Decimal) -> None:
    """cost_analytics over the last 30 days must equal the stand-in's cost lines of those days, to the cent
    (the days the Usage and Cost Analytics API serves, none before 2026-01-01 or older than 365 days, that have
    ended)."""
    days = analytics_days(organization, since, organization.last_day)
    truth_usd = sum((v["amount"] for v in expected_cost(organization, days).values()), Decimal(0)) / 100
    if synced_usd != truth_usd:
        sys.exit(f"MISMATCH of cost_analytics with the stand-in's ground truth: USD {synced_usd} vs {truth_usd}")
    print(f"cost_analytics matches the stand-in's ground truth exactly: ${synced_usd:,.10f} in the last 30 days.")


def reconcile_engagement(engagement: Engagement, start: date, counts: Mapping[str, int], summaries: Sequence,
                         tops: Mapping) -> None:
    """The Enterprise sync must hold every row the stand-in serves from the sync's start to each report's newest day,
    every summaries day's counts and rates must equal its row, and the top skills and connectors must equal a plain
    count of its rows of their days."""
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)  # a sync never reads the day not ended
    served = {stream: days_from(start, min(engagement.latest_day(endpoint), yesterday))
              for stream, endpoint in ENGAGEMENT.items()}
    truth_counts = {stream: sum(len(engagement.rows(ENGAGEMENT[stream], day, copy=False)) for day in days)
                    for stream, days in served.items()}
    periods = ("daily", "weekly", "monthly")
    truth_summaries = [(day, *(row[f"{period}_active_user_count"] for period in periods),
                        *(Decimal(repr(row[f"{period}_adoption_rate"])) for period in periods),
                        row["assigned_seat_count"])
                       for day in served["summaries"] for row in engagement.rows("summaries", day, copy=False)]
    if counts != truth_counts:
        sys.exit(f"MISMATCH of the Claude Enterprise engagement records with the stand-in's rows: {counts} synced, "
                 f"{truth_counts} served")
    for synced, truth in zip_longest(map(tuple, summaries), truth_summaries):
        if synced != truth:
            sys.exit(f"MISMATCH of summaries with the stand-in's rows: {synced} synced, {truth} served")
    for table, (window, rows) in tops.items():
        truth = expected_top(engagement, table, f"{table[:-1]}_name", days_from(window["first"], window["last"]))
        if list(map(tuple, rows)) != truth:
            sys.exit(f"MISMATCH of the top {table} with the stand-in's rows: {rows} synced, {truth} served")
    print(f"Claude Enterprise engagement matches the stand-in's rows exactly: {sum(counts.values()):,} records of "
          f"{len(counts)} streams, every count and rate of {len(summaries)} summaries days, the top {TOP} skills and "
          f"connectors.")


def expected_top(engagement: Engagement, endpoint: str, name: str, days: Sequence[date]) -> List[tuple]:
    """Per skill or connector in the stand-in's rows of those days: user-days, peak daily users, days used; the
    TOP with the most user-days."""
    totals: Dict[str, tuple] = {}
    for day in days:
        for row in engagement.rows(endpoint, day, copy=False):
            user_days, peak, used = totals.get(row[name], (0, 0, 0))
            users = row["distinct_user_count"]
            totals[row[name]] = (user_days + users, max(peak, users), used + 1)
    return sorted(((key, *values) for key, values in totals.items()), key=lambda row: (-row[1], row[0]))[:TOP]


def print_table(title: str, headers: List[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    line = "  ".join("-" * width for width in widths)
    numeric = [str(cell)[:1].isdigit() for cell in rows[0]] if rows else [False] * len(headers)
    print(title)
    print(line)
    print("  ".join(h.rjust(w) if n else h.ljust(w) for h, w, n in zip(headers, widths, numeric)))
    print(line)
    for row in rows:  # numbers right-aligned, words left-aligned
        print("  ".join(cell.rjust(width) if cell[:1].isdigit() else cell.ljust(width)
                        for cell, width in zip(map(str, row), widths)))
    print()


if __name__ == "__main__":
    main()
