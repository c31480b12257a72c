"""The FinOps reports over a PyAirbyte DuckDB cache of source-claude, shared by `make demo` and the notebook.

Amounts are the API's decimal strings in cents: they are summed and scaled as DECIMAL, never as floats
(DuckDB's `/` would give a DOUBLE, so USD is `* 0.01`).
"""

import subprocess
import sys
from contextlib import contextmanager
from datetime import timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent

TOKENS_BY_MODEL_SQL = """
SELECT model,
       context_window,
       SUM(uncached_input_tokens + cache_read_input_tokens
           + cache_creation_ephemeral_5m_input_tokens + cache_creation_ephemeral_1h_input_tokens) AS input_tokens,
       SUM(cache_read_input_tokens) AS of_which_cache_reads,
       SUM(output_tokens) AS output_tokens
FROM messages_usage
WHERE starting_at >= CAST(:since AS TIMESTAMPTZ)
GROUP BY ALL
ORDER BY model, context_window
"""

COST_BY_TYPE_SQL = """
SELECT cost_type,
       COALESCE(model, '-') AS model,
       COALESCE(token_type, '-') AS token_type,
       SUM(CAST(amount AS DECIMAL(38, 12))) * 0.01 AS usd
FROM cost_report
GROUP BY ALL
ORDER BY usd DESC
"""

# Ranks token usage by API key name over the last 30 days. A null workspace_id is the default workspace and a null
# api_key_id is Console usage, so both are labelled rather than dropped by the joins.
TOKENS_BY_KEY_SQL = """
SELECT COALESCE(k.name, '(Console: no key)') AS api_key,
       COALESCE(w.name, 'Default workspace') AS workspace,
       SUM(COALESCE(u.uncached_input_tokens, 0) + COALESCE(u.cache_read_input_tokens, 0)
           + COALESCE(u.cache_creation_ephemeral_5m_input_tokens, 0)
           + COALESCE(u.cache_creation_ephemeral_1h_input_tokens, 0)
           + COALESCE(u.output_tokens, 0)) AS tokens
FROM messages_usage AS u
LEFT JOIN api_keys AS k ON k.id = u.api_key_id
LEFT JOIN workspaces AS w ON w.id = u.workspace_id
WHERE u.starting_at >= CAST(:since AS TIMESTAMPTZ)
GROUP BY ALL
ORDER BY tokens DESC
"""

# The last 24 whole hours by model, from the hourly stream (never mixed with messages_usage: that would double-count).
HOURLY_TOKENS_BY_MODEL_SQL = """
SELECT starting_at AS hour,
       model,
       SUM(uncached_input_tokens + cache_read_input_tokens
           + cache_creation_ephemeral_5m_input_tokens + cache_creation_ephemeral_1h_input_tokens) AS input_tokens,
       SUM(output_tokens) AS output_tokens
FROM messages_usage_hourly
WHERE starting_at >= CAST(:since AS TIMESTAMPTZ) AND starting_at < CAST(:until AS TIMESTAMPTZ)
GROUP BY ALL
ORDER BY hour, model
"""

# Each model group's busiest hour beside its per-minute limits (rate_limits, the organization's): the hour's tokens of
# the group's models over 60, the average minute of that hour, input and output each in its own busiest hour. An
# hourly average understates the busiest minute within the hour, which is what a limit refuses. Batch usage counts
# against the batch group, not the model group's per-minute limits, so it is left out.
BUSIEST_HOUR_VS_LIMIT_SQL = """
WITH model_groups AS (
    SELECT DISTINCT group_id, group_display_name, UNNEST(CAST(models AS VARCHAR[])) AS model
    FROM rate_limits
    WHERE group_type = 'model_group'
),
hours AS (
    SELECT g.group_id, g.group_display_name, u.starting_at AS hour,
           SUM(COALESCE(u.uncached_input_tokens, 0) + COALESCE(u.cache_read_input_tokens, 0)
               + COALESCE(u.cache_creation_ephemeral_5m_input_tokens, 0)
               + COALESCE(u.cache_creation_ephemeral_1h_input_tokens, 0)) AS input_tokens,
           SUM(COALESCE(u.output_tokens, 0)) AS output_tokens
    FROM messages_usage_hourly AS u
    JOIN model_groups AS g ON g.model = u.model
    WHERE u.service_tier IS DISTINCT FROM 'batch'
    GROUP BY ALL
),
busiest AS (
    SELECT group_id, group_display_name,
           ARG_MAX(hour, input_tokens) AS input_hour, MAX(input_tokens) / 60.0 AS input_per_minute,
           ARG_MAX(hour, output_tokens) AS output_hour, MAX(output_tokens) / 60.0 AS output_per_minute
    FROM hours
    GROUP BY ALL
),
limits AS (
    SELECT group_id,
           MAX(CASE WHEN limit_type = 'input_tokens_per_minute' THEN value END) AS input_limit,
           MAX(CASE WHEN limit_type = 'output_tokens_per_minute' THEN value END) AS output_limit
    FROM rate_limits
    GROUP BY group_id
)
SELECT b.group_display_name AS model_group,
       b.input_hour, b.input_per_minute, l.input_limit, b.input_per_minute / l.input_limit AS input_share,
       b.output_hour, b.output_per_minute, l.output_limit, b.output_per_minute / l.output_limit AS output_share
FROM busiest AS b
JOIN limits AS l ON l.group_id = b.group_id
ORDER BY GREATEST(b.input_per_minute / l.input_limit, b.output_per_minute / l.output_limit) DESC NULLS LAST,
         model_group
"""

DAILY_COST_BY_MODEL_SQL = """
SELECT CAST(starting_at AS DATE) AS day,
       COALESCE(model, 'web search and code execution') AS model,
       SUM(CAST(amount AS DECIMAL(38, 12))) * 0.01 AS usd
FROM cost_report
GROUP BY ALL
ORDER BY day
"""

# The top API keys and the top people by cost over the last 30 days, from cost_analytics (the Usage and Cost
# Analytics API): the legacy cost report cannot split cost by key or person. Console usage has no key; usage on a
# key that no person or service account made is attributed to the key itself.
TOP_COST_BY_API_KEY_SQL = """
SELECT COALESCE(k.name, c.api_key_id, '(Console: no key)') AS api_key,
       SUM(CAST(c.amount AS DECIMAL(38, 12))) * 0.01 AS usd
FROM cost_analytics AS c
LEFT JOIN api_keys AS k ON k.id = c.api_key_id
WHERE c.starting_at >= CAST(:since AS TIMESTAMPTZ)
GROUP BY ALL
ORDER BY usd DESC
LIMIT :top
"""

TOP_COST_BY_USER_SQL = """
SELECT actor_email_address AS user_email,
       SUM(CAST(amount AS DECIMAL(38, 12))) * 0.01 AS usd
FROM cost_analytics
WHERE starting_at >= CAST(:since AS TIMESTAMPTZ) AND actor_email_address IS NOT NULL
GROUP BY ALL
ORDER BY usd DESC
LIMIT :top
"""

ANALYTICS_COST_SQL = """
SELECT COALESCE(SUM(CAST(amount AS DECIMAL(38, 12))), 0) * 0.01 AS usd
FROM cost_analytics
WHERE starting_at >= CAST(:since AS TIMESTAMPTZ)
"""


# Claude Enterprise engagement (an Analytics key). Each summaries day already counts the distinct people active that
# day, in the 7 and in the 30 days ending with it: never add them up across days.
ENGAGEMENT_SUMMARIES_SQL = """
SELECT date,
       daily_active_user_count, weekly_active_user_count, monthly_active_user_count,
       daily_adoption_rate, weekly_adoption_rate, monthly_adoption_rate,
       assigned_seat_count
FROM summaries
ORDER BY date
"""

# Active users and adoption by week (weeks start on Monday): the daily count averaged over the week's days and at its
# peak, and the weekly and monthly counts and rates of the week's last day.
ACTIVE_USERS_BY_WEEK_SQL = """
SELECT CAST(DATE_TRUNC('week', date) AS DATE) AS week,
       COUNT(*) AS days,
       AVG(daily_active_user_count) AS average_daily_active_users,
       MAX(daily_active_user_count) AS peak_daily_active_users,
       ARG_MAX(weekly_active_user_count, date) AS weekly_active_users,
       ARG_MAX(weekly_adoption_rate, date) AS weekly_adoption_rate,
       ARG_MAX(monthly_active_user_count, date) AS monthly_active_users,
       ARG_MAX(monthly_adoption_rate, date) AS monthly_adoption_rate
FROM summaries
WHERE date BETWEEN CAST(:first AS DATE) AND CAST(:last AS DATE)
GROUP BY ALL
ORDER BY week
"""

# Skills, connectors or plugins ({table}, named by {name}) ranked by their daily distinct users. The API counts
# distinct users per day: a person on three days is in three days' counts, so their sum is user-days, not users.
# Divided by the days of the period it is the average daily users; the peak is the busiest day's count.
TOP_BY_DAILY_USERS_SQL = """
SELECT {name} AS name,
       SUM(distinct_user_count) AS user_days,
       MAX(distinct_user_count) AS peak_daily_users,
       COUNT(*) AS days_used
FROM {table}
WHERE date BETWEEN CAST(:first AS DATE) AND CAST(:last AS DATE)
GROUP BY ALL
ORDER BY user_days DESC, name
LIMIT :top
"""

@contextmanager
def local_stand_in(days: int = 120, rows_per_day: int = 150, seed: int = 2026,
                   through_today: bool = False) -> Iterator[str]:
    """The project's local stand-in of the Admin API, in a subprocess; yields its base URL, stops it after.
    through_today: its days end today rather than yesterday, so the hours of today that have ended have usage."""
    process = subprocess.Popen(
        [sys.executable, "-m", "integration_tests.fake_admin_api", f"--days={days}",
         f"--rows-per-day={rows_per_day}", f"--seed={seed}", *(["--through-today"] if through_today else [])],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def write_daily_cost_chart(daily: Sequence[Sequence[Any]], path: Path) -> Path:
    """A stacked area chart of USD per day by model, from DAILY_COST_BY_MODEL_SQL's rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = sorted({row[0] for row in daily})
    models = sorted({row[1] for row in daily})
    usd: Mapping[Any, float] = {(row[0], row[1]): float(row[2]) for row in daily}  # floats only to draw
    figure, axes = plt.subplots(figsize=(11, 5))
    axes.stackplot(days, [[usd.get((day, model), 0.0) for day in days] for model in models], labels=models)
    axes.set_title("Daily Claude API cost by model")
    axes.set_ylabel("USD per day")
    return save_chart(figure, axes, path)


def write_hourly_tokens_chart(hourly: Sequence[Sequence[Any]], path: Path) -> Path:
    """Stacked bars of tokens (input and output) per hour by model, from HOURLY_TOKENS_BY_MODEL_SQL's rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = sorted({row[0] for row in hourly})
    models = sorted({row[1] for row in hourly})
    tokens: Mapping[Any, int] = {(row[0], row[1]): int(row[2]) + int(row[3]) for row in hourly}
    figure, axes = plt.subplots(figsize=(11, 5))
    bottom = [0] * len(hours)
    labels = [f"{hour.astimezone(timezone.utc):%H:%M}" for hour in hours]
    for model in models:
        heights = [tokens.get((hour, model), 0) for hour in hours]
        axes.bar(labels, heights, bottom=bottom, label=model)
        bottom = [low + height for low, height in zip(bottom, heights)]
    axes.set_title("Claude API tokens per hour by model, the last 24 whole hours (UTC)")
    axes.set_ylabel("tokens per hour")
    return save_chart(figure, axes, path)


def write_adoption_chart(summaries: Sequence[Sequence[Any]], path: Path) -> Path:
    """Daily, weekly and monthly active users against the assigned seats (above) and the adoption rates, active users
    over assigned seats (below), per day, from ENGAGEMENT_SUMMARIES_SQL's rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [row[0] for row in summaries]
    figure, (users, rates) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for column, period in enumerate(("daily", "weekly", "monthly"), start=1):
        users.plot(days, [row[column] for row in summaries], label=f"{period} active users")
        rates.plot(days, [float(row[column + 3]) * 100 for row in summaries], label=f"{period} adoption rate")
    users.plot(days, [row[7] for row in summaries], "k--", label="assigned seats")
    users.set_title("Claude Enterprise active users and adoption")
    users.set_ylabel("people")
    users.set_ylim(bottom=0)
    rates.set_ylabel("% of assigned seats")
    rates.set_ylim(0, 100)
    users.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return save_chart(figure, rates, path)

def save_chart(figure: Any, axes: Any, path: Path) -> Path:
    """The legend beside the plot, dates slanted, the PNG written and the figure freed."""
    import matplotlib.pyplot as plt

    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.autofmt_xdate()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
