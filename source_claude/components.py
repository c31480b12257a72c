#
# Custom components for source-claude. Only what the manifest cannot express lives here.
#
import json
import logging
import os
import re
from dataclasses import InitVar, dataclass, field
from datetime import timezone
from decimal import Decimal, InvalidOperation
from hashlib import md5
from typing import Any, Generator, Iterable, List, Mapping, MutableMapping, Optional, Sequence, Union
from urllib.parse import urlsplit

import orjson
import requests
from dateutil.parser import isoparse
from requests_cache import SQLiteCache

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.decoders import JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

logger = logging.getLogger("airbyte")

# Nested objects whose members keep their own names when flattened: `server_tool_use.web_search_requests`
# becomes `web_search_requests`. Every other nested object is flattened with its name as a prefix, so
# `cache_creation.ephemeral_5m_input_tokens` becomes `cache_creation_ephemeral_5m_input_tokens`.
UNPREFIXED_OBJECTS = frozenset({"server_tool_use"})
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# Where a response keeps its parsed body, so the error handler, paginator and extractor share one parse.
_PARSED_BODY = "_source_claude_parsed_body"
_NOT_JSON = object()
INCOMPLETE_PAGE_MESSAGE = "The Anthropic Admin API returned an incomplete page; retrying."
REPORT_PAGE_KEYS = ("data", "has_more")


def parsed_body(response: requests.Response, exact_decimals: bool = False) -> Any:
    """The response body parsed once (cached on the response); _NOT_JSON if it is not JSON.

    exact_decimals parses JSON numbers with a fraction as Decimal (stdlib json, slower), for pages whose money
    is a JSON number; report pages carry money as strings and take the fast orjson path.
    """
    body = vars(response).get(_PARSED_BODY, None)
    if body is None:
        try:
            body = json.loads(response.content, parse_float=Decimal) if exact_decimals else orjson.loads(response.content)
        except ValueError:  # orjson.JSONDecodeError and json.JSONDecodeError are both ValueErrors
            body = _NOT_JSON
        setattr(response, _PARSED_BODY, body)
    return body


def read_page(response: requests.Response, page_keys: Sequence[str] = REPORT_PAGE_KEYS,
              exact_decimals: bool = False) -> Optional[Mapping[str, Any]]:
    """The parsed body if it is a whole page (an object with page_keys; `data` a list, `has_more` a boolean)."""
    body = parsed_body(response, exact_decimals)
    if not isinstance(body, dict) or any(key not in body for key in page_keys):
        return None
    if "data" in page_keys and not isinstance(body["data"], list):
        return None
    if "has_more" in page_keys and not isinstance(body["has_more"], bool):
        return None
    return body


@dataclass
class PageCheckingErrorHandler(ErrorHandler):
    """The manifest's error handler plus one rule: a 2xx whose body is not a whole page is fetched again.

    It exists because the declarative way to say this, an HttpResponseFilter predicate, parses every body again
    with the standard-library json: measured as the largest per-response cost of a sync. Here the body is parsed
    once and kept for the paginator (ParsedPageDecoder) and the extractor. It also says, once per stream, when a
    stream is skipped because the key may not read it (the manifest's IGNORE filters only log at info level).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    error_handler: ErrorHandler
    page_keys: List[str] = field(default_factory=lambda: list(REPORT_PAGE_KEYS))
    exact_decimals: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._warned_skip = False

    @property
    def max_retries(self) -> Optional[int]:
        return self.error_handler.max_retries

    @property
    def max_time(self) -> Optional[int]:
        return self.error_handler.max_time

    @property
    def backoff_strategies(self) -> Any:
        return getattr(self.error_handler, "backoff_strategies", None)

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.ok:
            if read_page(response_or_exception, self.page_keys, self.exact_decimals) is None:
                return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error, INCOMPLETE_PAGE_MESSAGE)
        resolution = self.error_handler.interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.IGNORE and not self._warned_skip:
            self._warned_skip = True
            logger.warning(resolution.error_message)
        if isinstance(response_or_exception, requests.RequestException) and resolution.response_action == ResponseAction.RETRY:
            # No HTTP answer at all: say so in one sentence instead of urllib3's repr of the connection pool.
            request = response_or_exception.request
            url = request.url if request is not None and request.url else "the Anthropic API"
            return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error,
                                   connection_problem(url, response_or_exception))
        return resolution


def connection_problem(url: str, error: Exception) -> str:
    """One sentence for a request that got no HTTP answer at all."""
    parts = urlsplit(url)
    where = f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
    if isinstance(error, requests.exceptions.Timeout):
        return (f"{where} did not answer in time ({type(error).__name__}): check api_url, and that this machine "
                "may make outbound HTTPS requests to it.")
    return (f"Could not connect to {where} ({type(error).__name__}): check api_url, and that this machine may "
            "make outbound HTTPS requests to it (DNS, firewall, proxy).")


@dataclass
class ParsedPageDecoder(JsonDecoder):
    """Hands the paginator (and a DpathExtractor) the page the error handler already parsed, instead of parsing
    the body again. It subclasses JsonDecoder only because the CDK accepts nothing else for pagination."""

    parameters: InitVar[Mapping[str, Any]]
    page_keys: List[str] = field(default_factory=lambda: list(REPORT_PAGE_KEYS))
    exact_decimals: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def is_stream_response(self) -> bool:
        return False

    def decode(self, response: requests.Response) -> Generator[MutableMapping[str, Any], None, None]:
        yield dict(whole_page(response, self.page_keys, self.exact_decimals))


@dataclass
class ReportRowExtractor(RecordExtractor):
    """Turns one report page (daily buckets, each holding result rows) into flat, keyed records.

    It exists because the fan-out from bucket to rows, the flattening and the row key run once per
    record, where plain Python measured several times faster than the declarative RecordExpander,
    DpathFlattenFields and Jinja AddFields chain, and because `amount_usd` must be an exact decimal,
    which Jinja can only produce through floats.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    key_dimensions: List[str] = field(default_factory=list)
    amount_cents_field: Optional[str] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._key_dimensions = tuple(self.key_dimensions)

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        for bucket in whole_page(response)["data"]:
            starting_at, ending_at = bucket["starting_at"], bucket["ending_at"]
            for result_row in bucket.get("results") or ():
                record = flatten_result_row(result_row, starting_at, ending_at)
                record["row_key"] = row_key(record, self._key_dimensions)
                if self.amount_cents_field:
                    add_amount_usd(record, self.amount_cents_field)
                yield record


def whole_page(response: requests.Response, page_keys: Sequence[str] = REPORT_PAGE_KEYS,
               exact_decimals: bool = False) -> Mapping[str, Any]:
    """The parsed page; a body that is not a whole page fails loudly (its retries are spent) instead of reading as empty."""
    page = read_page(response, page_keys, exact_decimals)
    if page is None:
        raise AirbyteTracedException(
            message=(
                "The Anthropic Admin API returned a response that is not a whole page "
                f"(HTTP {response.status_code}). Retry the sync; if it persists, check api_url points at the Admin API."
            ),
            internal_message=f"Unreadable page from {response.url}",
            failure_type=FailureType.transient_error,
        )
    return page


def flatten_result_row(
    result_row: Mapping[str, Any], starting_at: str, ending_at: str
) -> MutableMapping[str, Any]:
    """One result row as a flat record carrying its bucket's bounds; unknown fields pass through."""
    record: MutableMapping[str, Any] = {"starting_at": starting_at, "ending_at": ending_at}
    for name, value in result_row.items():
        if isinstance(value, dict):
            keep_names = name in UNPREFIXED_OBJECTS
            for member, member_value in value.items():
                flat_name = member if keep_names and member not in result_row else f"{name}_{member}"
                record[flat_name] = member_value
        else:
            record[name] = value
    return record


def row_key(record: Mapping[str, Any], dimensions: Iterable[str]) -> str:
    """A report row's key: the bucket start and every dimension value."""
    return stable_key([record["starting_at"], *(record.get(dimension) for dimension in dimensions)])


def stable_key(values: Sequence[Any]) -> str:
    """A never-null primary key: MD5 of the values as a JSON list, so null stays distinct from "None" or ""."""
    return md5(orjson.dumps(values), usedforsecurity=False).hexdigest()


def add_amount_usd(record: MutableMapping[str, Any], cents_field: str) -> None:
    """Adds `amount_usd` = cents / 100, exact: a JSON number whose text is the exact decimal quotient."""
    usd = cents_to_usd(record.get(cents_field))
    if usd is not None:
        # orjson writes a Fragment verbatim, so the number reaches the destination without a float in between.
        record["amount_usd"] = orjson.Fragment(usd.encode())


def cents_to_usd(cents: Any) -> Optional[str]:
    """The decimal text of `cents` / 100, exact: the decimal point moves two places; None if not a finite number."""
    if type(cents) is str and _PLAIN_DECIMAL.fullmatch(cents):
        # The usual form, moved as text: "123.78912" -> "1.2378912" (Decimal measured 3x slower per record).
        sign, digits = ("-", cents[1:]) if cents[0] == "-" else ("", cents)
        whole, _, fraction = digits.partition(".")
        whole = whole.rjust(3, "0")
        return f"{sign}{whole[:-2].lstrip('0') or '0'}.{whole[-2:]}{fraction}"
    if isinstance(cents, bool) or not isinstance(cents, (str, int, float, Decimal)):
        return None
    try:
        amount = cents if isinstance(cents, Decimal) else Decimal(repr(cents) if isinstance(cents, float) else str(cents))
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    sign, digits, exponent = amount.as_tuple()
    return format(Decimal((sign, digits, int(exponent) - 2)), "f")


@dataclass
class ClaudeCodeSharedPagesRequester(Requester):
    """Lets both Claude Code streams read each day's pages from one request: the CDK keeps its request cache per
    stream (a file named after the stream, which the manifest cannot change) and reads one stream to its end first.

    It sends the requests through the wrapped HttpRequester, built by the CDK like any other (URL, retries, logs, the
    stream named in errors), and keeps each whole page where the CDK keeps its own request caches: a SQLite file in
    REQUEST_CACHE_PATH, the directory the CDK's entrypoint creates for each run and deletes after it. So the pages cost
    disk, not memory, and never outlive the run; without that directory (a source read without the entrypoint) each
    stream asks for its own pages. Only a 2xx that is a whole page is kept, once the CDK's retries are done, so a
    truncated page is fetched again and never handed to the other stream.
    """

    requester: Requester
    parameters: InitVar[Mapping[str, Any]]
    pages_file: str

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._pages: Optional[SQLiteCache] = None
        self._pages_path: Optional[str] = None

    def send_request(self, **request: Any) -> Optional[requests.Response]:
        pages = self._shared_pages()
        if pages is None:
            return self.requester.send_request(**request)
        key = self._page_key(**request)
        shared = pages.get_response(key)
        if shared is not None:
            return shared
        response = self.requester.send_request(**request)
        # A whole page as the extractor reads it (already parsed so by the error handler).
        if response is not None and response.ok and read_page(response, exact_decimals=True) is not None:
            pages.save_response(response, key)
        return response

    def _shared_pages(self) -> Optional[SQLiteCache]:
        # Looked up at each request: the entrypoint sets the directory after the streams are built.
        directory = os.environ.get(ENV_REQUEST_CACHE_PATH)
        if not directory:
            return None
        pages_path = os.path.join(directory, f"{self.pages_file}.sqlite")
        if pages_path != self._pages_path:
            # Opened as the CDK opens its caches: WAL lets the other stream's connection read while this one writes.
            self._pages, self._pages_path = SQLiteCache(pages_path, fast_save=True, wal=True), pages_path
        return self._pages

    def _page_key(self, stream_slice: Any = None, next_page_token: Any = None, path: Optional[str] = None,
                  request_params: Optional[Mapping[str, Any]] = None, **_: Any) -> str:
        """The URL with its query: both streams send the same headers, so it names a page."""
        options = dict(stream_state={}, stream_slice=stream_slice, next_page_token=next_page_token)
        params = {**self.requester.get_request_params(**options), **(request_params or {})}
        url = requests.Request("GET", self.requester.get_url(**options), params=params).prepare().url or ""
        return f"{url} {path}" if path else url

    def get_authenticator(self) -> Any:
        return self.requester.get_authenticator()

    def get_url(self, **kwargs: Any) -> str:
        return self.requester.get_url(**kwargs)

    def get_url_base(self, **kwargs: Any) -> str:
        return self.requester.get_url_base(**kwargs)

    def get_path(self, **kwargs: Any) -> str:
        return self.requester.get_path(**kwargs)

    def get_method(self) -> Any:
        return self.requester.get_method()

    def get_request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return self.requester.get_request_params(**kwargs)

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return self.requester.get_request_headers(**kwargs)

    def get_request_body_data(self, **kwargs: Any) -> Any:
        return self.requester.get_request_body_data(**kwargs)

    def get_request_body_json(self, **kwargs: Any) -> Any:
        return self.requester.get_request_body_json(**kwargs)


@dataclass
class ClaudeCodeExtractor(RecordExtractor):
    """Claude Code report records, flattened: one per actor, day, terminal and remote flag (record_kind "actors"),
    or one per model within them (record_kind "models").

    It exists because the tool map is an open set whose members become columns, model_breakdown fans out into a
    row per model, and the estimated cost is a JSON number in cents that must become an exact USD decimal: none of
    which the declarative extractors and transformations express.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    record_kind: str = "actors"

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        for report_record in whole_page(response, REPORT_PAGE_KEYS, exact_decimals=True)["data"]:
            actor = claude_code_actor(report_record)
            if self.record_kind == "models":
                for model_usage in report_record.get("model_breakdown") or ():
                    yield claude_code_model_row(actor, model_usage)
            else:
                yield claude_code_actor_row(actor, report_record)


CLAUDE_CODE_KEY = ("date", "actor_type", "actor_email_address", "actor_api_key_name", "terminal_type", "is_remote")


def claude_code_actor(report_record: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """Who, when and where: the fields that identify a Claude Code record, plus its row_key."""
    actor = report_record.get("actor") or {}
    identity: MutableMapping[str, Any] = {
        "date": utc_day(report_record.get("date")),
        "actor_type": actor.get("type"),
        "actor_email_address": actor.get("email_address"),
        "actor_api_key_name": actor.get("api_key_name"),
        "terminal_type": report_record.get("terminal_type"),
        "is_remote": report_record.get("is_remote"),
    }
    identity["row_key"] = stable_key([identity[name] for name in CLAUDE_CODE_KEY])
    identity["organization_id"] = report_record.get("organization_id")
    return identity


def claude_code_actor_row(actor: Mapping[str, Any], report_record: Mapping[str, Any]) -> MutableMapping[str, Any]:
    core = report_record.get("core_metrics") or {}
    lines = core.get("lines_of_code") or {}
    tools = report_record.get("tool_actions") or {}
    row: MutableMapping[str, Any] = {
        **actor,
        "customer_type": report_record.get("customer_type"),
        "subscription_type": report_record.get("subscription_type"),
        "num_sessions": core.get("num_sessions"),
        "lines_added": lines.get("added"),
        "lines_removed": lines.get("removed"),
        "commits_by_claude_code": core.get("commits_by_claude_code"),
        "pull_requests_by_claude_code": core.get("pull_requests_by_claude_code"),
        # The whole map too: a tool the schema does not list yet still reaches destinations that drop unknown columns.
        "tool_actions": exact_json(tools),
    }
    for tool, counts in tools.items():
        if isinstance(counts, Mapping):
            row[f"{tool}_accepted"] = exact_json(counts.get("accepted"))
            row[f"{tool}_rejected"] = exact_json(counts.get("rejected"))
    return row


def claude_code_model_row(actor: Mapping[str, Any], model_usage: Mapping[str, Any]) -> MutableMapping[str, Any]:
    tokens = model_usage.get("tokens") or {}
    cost = model_usage.get("estimated_cost") or {}
    model = model_usage.get("model")
    usd = cents_to_usd(cost.get("amount"))
    return {
        **{name: actor[name] for name in (*CLAUDE_CODE_KEY, "organization_id")},
        "usage_row_key": actor["row_key"],
        "row_key": stable_key([actor["row_key"], model]),
        "model": model,
        "input_tokens": tokens.get("input"),
        "output_tokens": tokens.get("output"),
        "cache_read_tokens": tokens.get("cache_read"),
        "cache_creation_tokens": tokens.get("cache_creation"),
        "estimated_cost_cents": exact_json(cost.get("amount")),
        "currency": cost.get("currency"),
        "estimated_cost_usd": orjson.Fragment(usd.encode()) if usd is not None else None,
    }


def utc_day(value: Any) -> Optional[str]:
    """A Claude Code `date` as YYYY-MM-DD: the API has sent both `2025-08-08` and `2025-08-08T00:00:00Z`."""
    if not isinstance(value, str):
        return None
    if len(value) == 10 or value.endswith("T00:00:00Z"):
        return value[:10]
    return isoparse(value).astimezone(timezone.utc).date().isoformat()


def exact_json(value: Any) -> Any:
    """A parsed value ready for orjson: Decimals (exact JSON numbers) become Fragments of their own text."""
    if isinstance(value, Decimal):
        return orjson.Fragment(format(value, "f").encode())
    if isinstance(value, dict):
        return {key: exact_json(member) for key, member in value.items()}
    if isinstance(value, list):
        return [exact_json(member) for member in value]
    return value
