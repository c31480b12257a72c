"""Config, request and response builders: each test states only the values that matter to it."""

import json
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from airbyte_cdk.models import ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from source_claude import SourceClaude

ADMIN_KEY = "sk-ant-admin01-unit-test-key-0123456789"
API_URL = "https://api.anthropic.com"
USAGE_URL = f"{API_URL}/v1/organizations/usage_report/messages"
COST_URL = f"{API_URL}/v1/organizations/cost_report"
USAGE_GROUP_BY = ["model", "workspace_id", "api_key_id", "service_tier", "context_window"]
COST_GROUP_BY = ["workspace_id", "description"]
STREAMS = {"messages_usage": (USAGE_URL, USAGE_GROUP_BY), "cost_report": (COST_URL, COST_GROUP_BY),
           "messages_usage_hourly": (USAGE_URL, USAGE_GROUP_BY)}
# bucket_width and limit (buckets per page, the most the API allows for the width) of each report stream.
BUCKETS = {"messages_usage": ("1d", "31"), "cost_report": ("1d", "31"), "messages_usage_hourly": ("1h", "168")}


def config(**overrides: Any) -> Dict[str, Any]:
    return {"admin_api_key": ADMIN_KEY, "start_date": "2025-01-01", **overrides}


def report_request(stream: str, starting_at: str, ending_at: str, page: Optional[str] = None) -> HttpRequest:
    url, group_by = STREAMS[stream]
    bucket_width, limit = BUCKETS[stream]
    query: Dict[str, Any] = {
        "bucket_width": bucket_width,
        "limit": limit,
        "group_by[]": group_by,
        "starting_at": starting_at,
        "ending_at": ending_at,
    }
    if page:
        query["page"] = page
    return HttpRequest(url, query_params=query, headers={"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"})


def bucket(day: str, *results: Mapping[str, Any]) -> Dict[str, Any]:
    return bucket_of(datetime.strptime(day, "%Y-%m-%d"), timedelta(days=1), results)


def hourly_bucket(hour: str, *results: Mapping[str, Any]) -> Dict[str, Any]:
    """An hourly bucket starting at `hour` (YYYY-MM-DDTHH)."""
    return bucket_of(datetime.strptime(hour, "%Y-%m-%dT%H"), timedelta(hours=1), results)


def bucket_of(start: datetime, width: timedelta, results: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    return {
        "starting_at": f"{start:%Y-%m-%dT%H:%M:%S}Z",
        "ending_at": f"{start + width:%Y-%m-%dT%H:%M:%S}Z",
        "results": list(results),
    }


def page(*buckets: Mapping[str, Any], next_page: Optional[str] = None) -> HttpResponse:
    body = {"data": list(buckets), "has_more": next_page is not None, "next_page": next_page}
    return HttpResponse(json.dumps(body), 200)


def window_page(stream: str, starting_at: str, ending_at: str, *buckets: Mapping[str, Any]) -> HttpResponse:
    """A window's last page as the API answers it: the buckets given, and an empty bucket for every other day (hour,
    for hourly buckets) from starting_at to ending_at, oldest first (the API returns every one, empty or not)."""
    width = timedelta(hours=1) if BUCKETS[stream][0] == "1h" else timedelta(days=1)
    given = {b["starting_at"]: b for b in buckets}
    moment, end = (datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ") for value in (starting_at, ending_at))
    while moment < end:
        given.setdefault(f"{moment:%Y-%m-%dT%H:%M:%S}Z", bucket_of(moment, width, ()))
        moment += width
    return page(*(given[start] for start in sorted(given)))


def whole_window(stream: str, starting_at: str, ending_at: str,
                 *buckets: Mapping[str, Any]) -> Tuple[HttpRequest, HttpResponse]:
    """A report window's request and its one page: the buckets given, the other days (hours) empty."""
    return report_request(stream, starting_at, ending_at), window_page(stream, starting_at, ending_at, *buckets)


def api_error(status: int, error_type: str, message: str, headers: Optional[Dict[str, str]] = None) -> HttpResponse:
    body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_unit"}
    return HttpResponse(json.dumps(body), status, headers or {})


def usage_row(**values: Any) -> Dict[str, Any]:
    """A usage result row as the API documents it: every dimension null unless given."""
    row: Dict[str, Any] = {
        "uncached_input_tokens": 0,
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        "cache_read_input_tokens": 0,
        "output_tokens": 0,
        "server_tool_use": {"web_search_requests": 0},
        "model": None,
        "workspace_id": None,
        "api_key_id": None,
        "service_tier": None,
        "context_window": None,
        "inference_geo": None,
        "account_id": None,
        "service_account_id": None,
    }
    row.update(values)
    return row


def cost_row(amount: str, **values: Any) -> Dict[str, Any]:
    row: Dict[str, Any] = {
        "amount": amount,
        "currency": "USD",
        "workspace_id": None,
        "description": None,
        "cost_type": None,
        "model": None,
        "token_type": None,
        "service_tier": None,
        "context_window": None,
        "inference_geo": None,
    }
    row.update(values)
    return row


# One result row of each report stream, for tests that need any row of it.
ONE_ROW_OF = {"messages_usage": usage_row(output_tokens=9), "cost_report": cost_row("9")}


def catalog(stream: str, sync_mode: SyncMode = SyncMode.incremental) -> ConfiguredAirbyteCatalog:
    return CatalogBuilder().with_stream(stream, sync_mode).build()


def read_stream(
    stream: str,
    user_config: Mapping[str, Any],
    state: Optional[Mapping[str, Any]] = None,
    sync_mode: SyncMode = SyncMode.incremental,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    """Reads one stream in-process, with config, catalog and state given to the constructor as CDK 7 needs."""
    configured = catalog(stream, sync_mode)
    state_messages = StateBuilder().with_stream_state(stream, state).build() if state else None
    source = SourceClaude(catalog=configured, config=user_config, state=state_messages)
    output = read(source, user_config, configured, state_messages, expecting_exception=expecting_exception)
    if not expecting_exception:
        # The wrapper only logs a failed read; an unexpected request (no mock for it) must fail the test.
        assert not output.errors, output.errors[0].trace.error.internal_message
    return output


def records_of(output: EntrypointOutput) -> List[Dict[str, Any]]:
    return [message.record.data for message in output.records]


def read_one_row(stream: str, row: Mapping[str, Any]) -> Dict[str, Any]:
    """The record a report stream makes of one result row, in a bucket on 2025-03-08 (call under a frozen clock of
    2025-03-10)."""
    with HttpMocker() as http_mocker:
        http_mocker.get(*whole_window(stream, "2025-03-08T00:00:00Z", "2025-03-10T00:00:00Z",
                                      bucket("2025-03-08", row)))
        [record] = records_of(read_stream(stream, config(start_date="2025-03-08"), sync_mode=SyncMode.full_refresh))
    return record


CLAUDE_CODE_URL = f"{API_URL}/v1/organizations/usage_report/claude_code"


def claude_code_request(day: str, page: Optional[str] = None) -> HttpRequest:
    query: Dict[str, Any] = {"starting_at": day, "limit": "1000", **({"page": page} if page else {})}
    return HttpRequest(CLAUDE_CODE_URL, query_params=query,
                       headers={"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"})


def claude_code_record(day: str, actor: Optional[Dict[str, Any]] = None, **values: Any) -> Dict[str, Any]:
    """A Claude Code report record as the API documents it (date as a midnight timestamp unless given)."""
    record: Dict[str, Any] = {
        "date": f"{day}T00:00:00Z",
        "actor": actor or {"type": "user_actor", "email_address": "dev@example.com"},
        "organization_id": "12345678-1234-5678-1234-567812345678",
        "customer_type": "api",
        "subscription_type": None,
        "terminal_type": "vscode",
        "is_remote": False,
        "core_metrics": {"num_sessions": 1, "lines_of_code": {"added": 0, "removed": 0},
                         "commits_by_claude_code": 0, "pull_requests_by_claude_code": 0},
        "tool_actions": {},
        "model_breakdown": [],
    }
    record.update(values)
    return record


def list_page(*items: Mapping[str, Any], has_more: bool = False, id_field: str = "id") -> HttpResponse:
    body = {"data": list(items), "has_more": has_more,
            "first_id": items[0][id_field] if items else None, "last_id": items[-1][id_field] if items else None}
    return HttpResponse(json.dumps(body), 200)


def list_request(path: str, **query: Any) -> HttpRequest:
    return HttpRequest(f"{API_URL}{path}", query_params={"limit": "1000", **query},
                       headers={"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"})
