"""`make demo`: a realistic organization, synced through PyAirbyte into DuckDB, and the two FinOps reports.

1. starts the local stand-in of the Anthropic Admin API with 120 days of a synthetic organization;
2. syncs messages_usage and cost_report with PyAirbyte (the installed `source-claude`, offline) into
   PyAirbyte's default local DuckDB cache;
3. prints tokens by model and context window for the last 30 days, and cost in USD by cost type,
   model and token type; writes a PNG chart of daily cost by model;
4. checks the warehouse totals against the stand-in's own rows, and stops the stand-in.
"""

import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import List, Sequence

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / ".demo"
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # no registry lookups: the connector is a local executable
os.environ.setdefault("AIRBYTE_PROJECT_DIR", str(OUTPUT))  # PyAirbyte's default DuckDB cache goes under .demo/
os.environ.setdefault("MPLBACKEND", "Agg")

import airbyte as ab  # noqa: E402  (after the environment it reads)
from sqlalchemy import text  # noqa: E402

sys.path.insert(0, str(ROOT))
from integration_tests.fake_admin_api import DEFAULT_ADMIN_KEY, Organization  # noqa: E402
from integration_tests.ground_truth import expected_cost, expected_usage  # noqa: E402

ORGANIZATION = dict(seed=2026, days=120, rows_per_day=150)
CONNECTOR = str(Path(sys.executable).with_name("source-claude"))

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
# amount is the API's exact decimal string in cents: summed and scaled as DECIMAL (DuckDB's `/` would give a DOUBLE).
COST_BY_TYPE_SQL = """
SELECT cost_type,
       COALESCE(model, '-') AS model,
       COALESCE(token_type, '-') AS token_type,
       SUM(CAST(amount AS DECIMAL(38, 12))) * 0.01 AS usd
FROM cost_report
GROUP BY ALL
ORDER BY usd DESC
"""
DAILY_COST_BY_MODEL_SQL = """
SELECT CAST(starting_at AS DATE) AS day,
       COALESCE(model, 'web search and code execution') AS model,
       SUM(CAST(amount AS DECIMAL(38, 12))) * 0.01 AS usd
FROM cost_report
GROUP BY ALL
ORDER BY day
"""


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    stand_in = start_stand_in()
    try:
        api_url = stand_in.stdout.readline().strip()
        organization = Organization(**ORGANIZATION)
        start_date = organization.first_day
        print(f"Local Admin API stand-in at {api_url}: {ORGANIZATION['days']} days, "
              f"about {ORGANIZATION['rows_per_day']} usage rows a day.\n")

        source = ab.get_source(
            "source-claude",
            config={"admin_api_key": DEFAULT_ADMIN_KEY, "start_date": start_date.isoformat(), "api_url": api_url},
            local_executable=CONNECTOR,
        )
        source.check()
        source.select_all_streams()
        cache = ab.get_default_cache()
        result = source.read(cache=cache, force_full_refresh=True)
        print(f"\nSynced {len(result['messages_usage'])} usage rows and {len(result['cost_report'])} cost rows "
              f"into {cache.db_path}.\n")

        since = date.today() - timedelta(days=30)
        with cache.get_sql_engine().connect() as connection:
            tokens = connection.execute(text(TOKENS_BY_MODEL_SQL), {"since": since.isoformat()}).all()
            costs = connection.execute(text(COST_BY_TYPE_SQL)).all()
            daily = connection.execute(text(DAILY_COST_BY_MODEL_SQL)).all()

        print_table(f"Tokens by model and context window, last 30 days (since {since})",
                    ["model", "context window", "input tokens", "of which cache reads", "output tokens"],
                    [[m, w, f"{i:,}", f"{c:,}", f"{o:,}"] for m, w, i, c, o in tokens])
        print_table(f"Cost in USD by cost type, model and token type, {start_date} to {organization.last_day}",
                    ["cost type", "model", "token type", "USD"],
                    [[t, m, k, f"{usd:,.2f}"] for t, m, k, usd in costs])
        chart = write_chart(daily)
        print(f"Daily cost by model: {chart}\n")

        reconcile(organization, since, tokens, costs)
    finally:
        stand_in.terminate()
        stand_in.wait(timeout=10)
    print("""
The stand-in is stopped. To sync your own organization instead:
  1. create an Admin key in the Claude Console: Settings > Admin keys (https://console.anthropic.com/settings/admin-keys);
  2. write config.json: {"admin_api_key": "sk-ant-admin01-...", "start_date": "2025-01-01"}
  3. .venv/bin/source-claude check --config config.json
     or in Python: ab.get_source("source-claude", config=..., local_executable=".venv/bin/source-claude")
""")


def start_stand_in() -> subprocess.Popen:
    arguments = [f"--{name.replace('_', '-')}={value}" for name, value in ORGANIZATION.items()]
    return subprocess.Popen([sys.executable, "-m", "integration_tests.fake_admin_api", *arguments],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)


def reconcile(organization: Organization, since: date, tokens: Sequence, costs: Sequence) -> None:
    """The warehouse totals must equal the stand-in's own rows: every token, every cent."""
    recent = [day for day in organization.day_range() if day >= since]
    truth_tokens = sum(sum(v.values()) - v["web_search_requests"]
                       for v in expected_usage(organization, recent).values())
    truth_usd = sum(v["amount"] for v in expected_cost(organization, organization.day_range()).values()) / 100
    synced_tokens = sum(row[2] + row[4] for row in tokens)
    synced_usd = sum(Decimal(row[3]) for row in costs)
    if (synced_tokens, synced_usd) != (truth_tokens, truth_usd):
        sys.exit(f"MISMATCH with the stand-in's ground truth: tokens {synced_tokens:,} vs {truth_tokens:,}, "
                 f"USD {synced_usd} vs {truth_usd}")
    print(f"Totals match the stand-in's ground truth exactly: {synced_tokens:,} tokens in the last 30 days, "
          f"${synced_usd:,.10f} in all.")


def write_chart(daily: Sequence) -> Path:
    import matplotlib.pyplot as plt

    days = sorted({row[0] for row in daily})
    models = sorted({row[1] for row in daily})
    usd = {(row[0], row[1]): float(row[2]) for row in daily}  # floats only to draw
    figure, axes = plt.subplots(figsize=(11, 5))
    axes.stackplot(days, [[usd.get((day, model), 0.0) for day in days] for model in models], labels=models)
    axes.set_title("Daily Claude API cost by model (local stand-in data)")
    axes.set_ylabel("USD per day")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.autofmt_xdate()
    path = OUTPUT / "daily_cost_by_model.png"
    figure.savefig(path, dpi=110, bbox_inches="tight")
    return path


def print_table(title: str, headers: List[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    line = "  ".join("-" * width for width in widths)
    print(title)
    print(line)
    numeric = [str(cell)[:1].isdigit() for cell in rows[0]] if rows else [False] * len(headers)
    print("  ".join(h.rjust(w) if n else h.ljust(w) for h, w, n in zip(headers, widths, numeric)))
    print(line)
    for row in rows:  # numbers right-aligned, words left-aligned
        print("  ".join(cell.rjust(width) if cell[:1].isdigit() else cell.ljust(width)
                        for cell, width in zip(map(str, row), widths)))
    print()


if __name__ == "__main__":
    main()
