"""rate_limits and workspace_rate_limits: the Rate Limits API's entries as one row per group and limiter type.

What the manifest promises for these streams (shared/reference/limits-api.md §1):
- full refresh; no `limit` is sent (the API then answers in one page), and `next_page` is followed as `page`;
- group_type is `group.type`, or the deprecated `group_type` of an entry without `group`, whose group_id is then its
  own id (never null while the API names one); any limiter type is carried;
- a workspace's rows name the workspace (the path's, for an entry that does not), the organization's value and
  the source; archived workspaces are not asked for;
- a workspace the API refuses (HTTP 400, 403 or 404) is skipped, named in one warning, and the others are read.
"""

import json
from typing import Any, Dict, List, Optional
from unittest import TestCase

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.builders import ADMIN_KEY, API_URL, api_error, config, list_page, list_request, read_stream, records_of

HEADERS = {"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"}
OPUS = {"type": "model_group", "id": "rlg_opus", "display_name": "Claude Opus 4.x"}
OPUS_MODELS = ["claude-opus-4-5", "claude-opus-4-5-20251101"]


def limits_request(path: str = "/v1/organizations/rate_limits", **query: Any) -> HttpRequest:
    return HttpRequest(f"{API_URL}{path}", query_params=query or None, headers=HEADERS)


def workspace_request(workspace_id: str, page: Optional[str] = None) -> HttpRequest:
    query = {"include_inherited": "true", **({"page": page} if page else {})}
    return limits_request(f"/v1/organizations/workspaces/{workspace_id}/rate_limits", **query)


def limits_page(*entries: Dict[str, Any], next_page: Optional[str] = None) -> HttpResponse:
    return HttpResponse(json.dumps({"data": list(entries), "next_page": next_page}), 200)


def full_refresh(stream: str):
    return read_stream(stream, config(), sync_mode=SyncMode.full_refresh)


def warnings_of(output) -> List[str]:
    return [log.log.message for log in output.logs if log.log.level.value == "WARN"]


class TestRateLimits(TestCase):
    @HttpMocker()
    def test_one_row_per_limiter_with_the_group_type_of_group_or_of_an_older_entry(self, http_mocker) -> None:
        """Given a current entry (group beside the deprecated group_type, a limiter type nobody documented) and an
        older one (group_type alone, models null), Then each limiter is one row with its group's fields."""
        http_mocker.get(limits_request(), limits_page(
            {"type": "rate_limit", "id": "rl_1", "group_type": "model_group", "group": OPUS, "models": OPUS_MODELS,
             "limits": [{"type": "requests_per_minute", "value": 4000}, {"type": "fast_otpm", "value": 40000},
                        {"type": "tokens_per_fortnight", "value": 7}]},
            {"type": "rate_limit", "id": "rl_2", "group_type": "batch", "models": None,
             "limits": [{"type": "enqueued_batch_requests", "value": 500000}]}))

        records = records_of(full_refresh("rate_limits"))

        opus = {"group_id": "rlg_opus", "group_type": "model_group", "group_display_name": "Claude Opus 4.x",
                "models": OPUS_MODELS, "rate_limit_id": "rl_1"}
        self.assertEqual(records, [
            {**opus, "limit_type": "requests_per_minute", "value": 4000},
            {**opus, "limit_type": "fast_otpm", "value": 40000},
            {**opus, "limit_type": "tokens_per_fortnight", "value": 7},
            # The older entry's key: its own id, stable within the organization.
            {"group_id": "rl_2", "group_type": "batch", "rate_limit_id": "rl_2",
             "limit_type": "enqueued_batch_requests", "value": 500000},
        ])  # nulls are omitted from records

    @HttpMocker()
    def test_next_page_is_followed_as_page_and_no_limit_is_sent(self, http_mocker) -> None:
        entry = {"type": "rate_limit", "group": {"type": "files", "id": "rlg_files"}, "group_type": "files",
                 "models": None}
        http_mocker.get(limits_request(), limits_page(
            {**entry, "id": "rl_1", "limits": [{"type": "requests_per_minute", "value": 1}]}, next_page="page_2"))
        http_mocker.get(limits_request(page="page_2"), limits_page(
            {**entry, "id": "rl_2", "group": {"type": "skills", "id": "rlg_skills"},
             "limits": [{"type": "requests_per_minute", "value": 2}]}))

        records = records_of(full_refresh("rate_limits"))

        self.assertEqual([(r["group_id"], r["value"]) for r in records], [("rlg_files", 1), ("rlg_skills", 2)])


class TestWorkspaceRateLimits(TestCase):
    @HttpMocker()
    def test_each_active_workspace_what_applies_and_a_refused_workspace_is_named_in_a_warning(self, http_mocker):
        """Given the active workspaces (asked without include_archived), one with an override beside inherited values
        and a value the organization lacks, one in the oldest shape (no workspace_id, no source), and three the API
        refuses (404 as for the default workspace, 403, 400), Then the rows of the first two are read and each refused
        workspace is named in one warning."""
        workspaces = [{"id": w, "name": w, "archived_at": None, "type": "workspace"}
                      for w in ("wrkspc_a", "wrkspc_old", "wrkspc_default", "wrkspc_closed", "wrkspc_bad")]
        http_mocker.get(list_request("/v1/organizations/workspaces"), list_page(*workspaces))
        http_mocker.get(workspace_request("wrkspc_a"), limits_page(
            {"type": "workspace_rate_limit", "group_type": "model_group", "group": OPUS, "models": OPUS_MODELS[:1],
             "rate_limit_id": "rl_1", "workspace_id": "wrkspc_a",
             "limits": [{"type": "requests_per_minute", "value": 100, "org_limit": 4000,
                         "source": {"type": "workspace"}},
                        {"type": "output_tokens_per_minute", "value": 800000, "org_limit": 800000,
                         "source": {"type": "organization"}},
                        {"type": "tokens_per_day", "value": 9, "org_limit": None, "source": {"type": "workspace"}}]}))
        http_mocker.get(workspace_request("wrkspc_old"), limits_page(
            {"group_type": "batch", "models": None, "limits": [{"type": "enqueued_batch_requests", "value": 5,
                                                                "org_limit": 10}]}))
        refusals = {"wrkspc_default": (404, "not_found_error", "Not found"),
                    "wrkspc_closed": (403, "permission_error", "Not allowed"),
                    "wrkspc_bad": (400, "invalid_request_error", "Workspace is archived")}
        for workspace_id, (status, error_type, message) in refusals.items():
            http_mocker.get(workspace_request(workspace_id),
                            api_error(status, error_type, message, {"x-should-retry": "false"}))

        output = full_refresh("workspace_rate_limits")

        opus = {"workspace_id": "wrkspc_a", "group_id": "rlg_opus", "group_type": "model_group",
                "group_display_name": "Claude Opus 4.x", "models": OPUS_MODELS[:1], "rate_limit_id": "rl_1"}
        self.assertEqual(records_of(output), [
            {**opus, "limit_type": "requests_per_minute", "value": 100, "org_limit": 4000, "source": "workspace"},
            {**opus, "limit_type": "output_tokens_per_minute", "value": 800000, "org_limit": 800000,
             "source": "organization"},
            {**opus, "limit_type": "tokens_per_day", "value": 9, "source": "workspace"},
            {"workspace_id": "wrkspc_old", "group_type": "batch", "limit_type": "enqueued_batch_requests", "value": 5,
             "org_limit": 10},  # the oldest shape: no group id nor rate_limit_id to key it by
        ])
        self.assertEqual(output.errors, [])
        warnings = warnings_of(output)
        for workspace_id, (status, _, message) in refusals.items():
            said = [w for w in warnings if w.startswith(f"Skipping the rate limits of workspace {workspace_id}: the "
                                                        f"Admin API refused them (HTTP {status}: {message})")]
            self.assertEqual(len(said), 1, warnings)
        self.assertEqual(len(warnings), len(refusals), warnings)

    @HttpMocker()
    def test_next_page_is_followed_within_a_workspace(self, http_mocker) -> None:
        http_mocker.get(list_request("/v1/organizations/workspaces"),
                        list_page({"id": "wrkspc_a", "archived_at": None}))
        entry = {"group_type": "skills", "group": {"type": "skills", "id": "rlg_skills"}, "models": None,
                 "rate_limit_id": "rl_9", "workspace_id": "wrkspc_a"}
        http_mocker.get(workspace_request("wrkspc_a"), limits_page(
            {**entry, "limits": [{"type": "requests_per_minute", "value": 1, "org_limit": 1,
                                  "source": {"type": "organization"}}]}, next_page="page_2"))
        http_mocker.get(workspace_request("wrkspc_a", page="page_2"), limits_page(
            {**entry, "group": {"type": "web_search", "id": "rlg_search"}, "group_type": "web_search",
             "limits": [{"type": "tool_uses_per_second", "value": 3, "org_limit": 30,
                         "source": {"type": "workspace"}}]}))

        records = records_of(full_refresh("workspace_rate_limits"))

        self.assertEqual([(r["group_id"], r["limit_type"], r["value"]) for r in records],
                         [("rlg_skills", "requests_per_minute", 1), ("rlg_search", "tool_uses_per_second", 3)])


def test_the_docs_query_puts_each_model_groups_busiest_hour_beside_its_limit() -> None:
    """The query of docs/claude.md (examples/claude_reports.py's), in DuckDB over tables shaped as PyAirbyte writes
    them (models as JSON): models join to their group by ID or alias, batch usage and models in no group are left
    out, input and output each take their own busiest hour, and the group nearest its limit comes first."""
    import re
    import sys
    from datetime import datetime, timezone
    from pathlib import Path

    import duckdb

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "examples"))
    from claude_reports import BUSIEST_HOUR_VS_LIMIT_SQL

    def words(sql: str) -> str:
        return " ".join(sql.split())

    docs_queries = re.findall(r"```sql\n(.*?)```", (root / "docs" / "claude.md").read_text(), re.S)
    assert words(BUSIEST_HOUR_VS_LIMIT_SQL) in [words(query) for query in docs_queries]

    db = duckdb.connect()
    db.execute("CREATE TABLE rate_limits (group_id VARCHAR, group_type VARCHAR, group_display_name VARCHAR, "
               "models JSON, limit_type VARCHAR, value BIGINT)")
    opus, haiku = '["claude-opus-4-5", "claude-opus-4-5-20251101"]', '["claude-haiku-4-5"]'
    db.executemany("INSERT INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)", [
        ("rlg_o", "model_group", "Opus", opus, "requests_per_minute", 50),
        ("rlg_o", "model_group", "Opus", opus, "input_tokens_per_minute", 600),
        ("rlg_o", "model_group", "Opus", opus, "output_tokens_per_minute", 60),
        ("rlg_h", "model_group", "Haiku", haiku, "input_tokens_per_minute", 6000),
        ("rlg_h", "model_group", "Haiku", haiku, "output_tokens_per_minute", 600),
        ("rlg_b", "batch", None, None, "enqueued_batch_requests", 10)])
    db.execute("CREATE TABLE messages_usage_hourly (starting_at TIMESTAMPTZ, model VARCHAR, service_tier VARCHAR, "
               "uncached_input_tokens BIGINT, cache_read_input_tokens BIGINT, "
               "cache_creation_ephemeral_5m_input_tokens BIGINT, cache_creation_ephemeral_1h_input_tokens BIGINT, "
               "output_tokens BIGINT)")
    ten, eleven = "2026-11-02 10:00:00+00", "2026-11-02 11:00:00+00"
    db.executemany("INSERT INTO messages_usage_hourly VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (ten, "claude-opus-4-5-20251101", "standard", 1000, 2000, 0, 0, 600),
        (ten, "claude-opus-4-5", "priority", 600, None, None, None, 0),  # the alias, nulls counted as 0
        (eleven, "claude-opus-4-5", "standard", 0, 0, 1200, 0, 1200),
        (eleven, "claude-opus-4-5", "batch", 999_999, 0, 0, 0, 999_999),  # the batch group's, not Opus's
        (ten, "claude-haiku-4-5", "standard", 60_000, 0, 0, 0, None),
        (eleven, "claude-2", "standard", 10 ** 9, 0, 0, 0, 10 ** 9)])  # in no group

    rows = db.execute(BUSIEST_HOUR_VS_LIMIT_SQL).fetchall()

    at_ten, at_eleven = (datetime(2026, 11, 2, hour, tzinfo=timezone.utc) for hour in (10, 11))
    assert [(group, input_hour, input_rate, input_limit, output_hour, output_rate, output_limit)
            for group, input_hour, input_rate, input_limit, _, output_hour, output_rate, output_limit, _ in rows] == [
        ("Opus", at_ten, 60, 600, at_eleven, 20, 60),  # 3,600 input tokens at 10:00, 1,200 output at 11:00
        ("Haiku", at_ten, 1000, 6000, at_ten, 0, 600)]
    assert [(row[4], row[8]) for row in rows] == [(0.1, 1 / 3), (1 / 6, 0)]
