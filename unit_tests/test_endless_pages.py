"""A server that pages forever with fresh tokens and fresh rows: the one case no repeated token or repeated row can
catch, bounded by what a slice can hold.

- a list, a Claude Code day: 1,000 pages of up to 1,000 rows (a million, beyond any organization);
- an analytics window: 1,000 pages a day of the window;
- the 1,000th page that still says there is more ends the sync in one sentence, each row emitted once.

The read is bounded by the cap itself: a guard stops a read that goes past it (the unfixed connector pages forever).
"""

import json
import re
from typing import Any, Dict
from unittest.mock import patch

import freezegun
import pytest
import requests_mock

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever

from unit_tests.builders import config, read_stream, records_of

CAP = 1_000


def users_page(n: int) -> Dict[str, Any]:
    return {"data": [{"id": f"user_{n}", "email": f"person{n}@example.com", "type": "user"}], "has_more": True,
            "first_id": f"user_{n}", "last_id": f"user_{n}"}


def analytics_page(n: int) -> Dict[str, Any]:
    row = {"starting_at": "2026-03-09T00:00:00Z", "ending_at": "2026-03-10T00:00:00Z",
           "group": {"api_key_id": f"apikey_{n}"}, "usage": {"output_tokens": n}}
    return {"data": [row], "has_more": True, "next_page": f"page_{n}", "data_refreshed_at": "2026-03-10T08:00:00Z"}


CASES = {
    "users": ("2025-03-10T12:00:00Z", "2025-03-09", r"/v1/organizations/users", users_page),
    "usage_analytics": ("2026-03-10T12:00:00Z", "2026-03-09", r"/v1/organizations/analytics/usage", analytics_page),
}


@pytest.mark.parametrize("stream", list(CASES))
def test_fresh_tokens_and_fresh_rows_forever_end_at_the_cap(stream: str) -> None:
    now, start_date, path, page_of = CASES[stream]
    served = []
    fetch_page = SimpleRetriever._fetch_next_page

    def answer(request, context) -> str:
        served.append(request.url)
        return json.dumps(page_of(len(served)))

    def guarded(retriever, *args, **kwargs):
        if len(served) > CAP:
            raise RuntimeError("Paged past the cap.")
        return fetch_page(retriever, *args, **kwargs)

    with freezegun.freeze_time(now), requests_mock.Mocker() as server, \
            patch.object(SimpleRetriever, "_fetch_next_page", guarded):
        server.get(re.compile(re.escape("https://api.anthropic.com" + path)), text=answer)
        output = read_stream(stream, config(start_date=start_date), sync_mode=SyncMode.full_refresh,
                             expecting_exception=True)

    assert len(served) == CAP
    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.system_error
    assert f"still had more after {CAP} pages of {path}" in error.message, error.message
    assert "more than the 1,000 pages of up to 1000 rows each that any organization's data fills" in error.message
    assert "check that api_url is https://api.anthropic.com" in error.message
    keys = [record.get("row_key") or record["id"] for record in records_of(output)]
    assert len(keys) == len(set(keys)) == CAP
