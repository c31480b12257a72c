#
# Custom components for source-claude. Only what the manifest cannot express lives here.
#
import re
from dataclasses import InitVar, dataclass, field
from decimal import Decimal, InvalidOperation
from hashlib import md5
from typing import Any, Generator, Iterable, List, Mapping, MutableMapping, Optional, Union
from urllib.parse import urlsplit

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.decoders import JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

# Nested objects whose members keep their own names when flattened: `server_tool_use.web_search_requests`
# becomes `web_search_requests`. Every other nested object is flattened with its name as a prefix, so
# `cache_creation.ephemeral_5m_input_tokens` becomes `cache_creation_ephemeral_5m_input_tokens`.
UNPREFIXED_OBJECTS = frozenset({"server_tool_use"})
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# Where a response keeps its parsed report page, so the error handler, paginator and extractor share one parse.
_REPORT_PAGE = "_source_claude_report_page"
INCOMPLETE_PAGE_MESSAGE = "The Anthropic Admin API returned an incomplete report page; retrying."


def read_report_page(response: requests.Response) -> Optional[Mapping[str, Any]]:
    """The response body parsed once: a report page ({data: [...], has_more: bool, ...}), or None if it is not one."""
    if _REPORT_PAGE not in vars(response):
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        is_page = isinstance(body, dict) and isinstance(body.get("data"), list) and isinstance(body.get("has_more"), bool)
        setattr(response, _REPORT_PAGE, body if is_page else None)
    return getattr(response, _REPORT_PAGE)


@dataclass
class ReportPageErrorHandler(ErrorHandler):
    """The manifest's error handler plus one rule: a 2xx whose body is not a whole report page is fetched again.

    It exists because the declarative way to say this, an HttpResponseFilter predicate, parses every body again
    with the standard-library json: measured as the largest per-response cost of a sync. Here the body is parsed
    once, with orjson, and kept for the paginator (ReportPageDecoder) and the extractor.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    error_handler: ErrorHandler

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
            if read_report_page(response_or_exception) is None:
                return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error, INCOMPLETE_PAGE_MESSAGE)
        resolution = self.error_handler.interpret_response(response_or_exception)
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
class ReportPageDecoder(JsonDecoder):
    """Hands the paginator the page the error handler already parsed, instead of parsing the body a second time.

    It subclasses JsonDecoder only because the CDK accepts nothing else for pagination; it parses nothing itself.
    """

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def is_stream_response(self) -> bool:
        return False

    def decode(self, response: requests.Response) -> Generator[MutableMapping[str, Any], None, None]:
        yield dict(report_page(response))


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
        for bucket in report_page(response)["data"]:
            starting_at, ending_at = bucket["starting_at"], bucket["ending_at"]
            for result_row in bucket.get("results") or ():
                record = flatten_result_row(result_row, starting_at, ending_at)
                record["row_key"] = row_key(record, self._key_dimensions)
                if self.amount_cents_field:
                    add_amount_usd(record, self.amount_cents_field)
                yield record


def report_page(response: requests.Response) -> Mapping[str, Any]:
    """The parsed page; a body that is not a report page fails loudly (its retries are spent) instead of reading as empty."""
    page = read_report_page(response)
    if page is None:
        raise AirbyteTracedException(
            message=(
                "The Anthropic Admin API returned a response that is not a report page "
                f"(HTTP {response.status_code}). Retry the sync; if it persists, check api_url points at the Admin API."
            ),
            internal_message=f"Unreadable report page from {response.url}",
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
    """A stable, never-null key: the bucket start and every dimension value, nulls kept distinct from strings."""
    identity = [record["starting_at"], *(record.get(dimension) for dimension in dimensions)]
    return md5(orjson.dumps(identity), usedforsecurity=False).hexdigest()


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
    if isinstance(cents, bool) or not isinstance(cents, (str, int, float)):
        return None
    try:
        amount = Decimal(repr(cents) if isinstance(cents, float) else str(cents))
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    sign, digits, exponent = amount.as_tuple()
    return format(Decimal((sign, digits, int(exponent) - 2)), "f")
