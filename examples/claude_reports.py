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


def save_chart(figure: Any, axes: Any, path: Path) -> Path:
    """The legend beside the plot, dates slanted, the PNG written and the figure freed."""
    import matplotlib.pyplot as plt

    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.autofmt_xdate()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
