"""The custom components of manifest.yaml: only what CDK 7.39.1 cannot declare for the Anthropic Admin API and the
Usage and Cost Analytics API. One file, because every runtime (the package, the manifest-only runtime
source-declarative-manifest, the Connector Builder) loads one, as source_declarative_manifest.components.

Contents:
1. Pages: ParsedPageDecoder, AdminApiErrorHandler, GuardedAuthenticator, ResponseOverLimit,
   SliceItems, NoRepeatedPages, WindowRestarts, WrappedRequester, ClaudeCodeSharedPagesRequester.
2. Records: ShapedRecords, with the shaping of report, analytics, Claude Code and list rows.
3. State: CursorAtBucketStart, StartWithoutState, CheckpointEachWindow, AnalyticsWindows.
4. Config: what a key reads, the key in every form, AdminApiKeyRule, ConfigFieldRule and the whole config's rules.
"""
import glob
import hashlib
import ipaddress
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import unicodedata
from contextlib import contextmanager, suppress
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Context, Decimal, InvalidOperation
from hashlib import md5
from typing import (Any, Dict, Generator, Iterable, Iterator, List, Mapping, MutableMapping, Optional,
                    Sequence, Set, Tuple, Union)
from urllib.parse import parse_qs, quote, urlsplit

import orjson
import requests
import urllib3
from dateutil.parser import isoparse
from isodate import parse_duration
from jsonschema import Draft7Validator
from requests_cache import CachedResponse, SQLiteCache

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.decoders import Decoder, JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler, HttpResponseFilter
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategies import (
    ExponentialBackoffStrategy, WaitTimeFromHeaderBackoffStrategy)
from airbyte_cdk.sources.declarative.requesters.paginators.paginator import (page_size_override_kwargs,
                                                                         stream_slice_kwargs)
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.declarative.retrievers.pagination_tracker import PaginationTracker
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.declarative.validators.validation_strategy import ValidationStrategy
from airbyte_cdk.sources.streams.http import HttpClient
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config, Record, StreamSlice
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

try:
    import fcntl
except ImportError:  # Windows: no run directory is marked (see claim_run_directory)
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("airbyte")


# -- 1. Pages ----------------------------------------------------------------------------------------------------------

# Where a response keeps its parsed body, so the error handler, paginator and extractor share one parse.
_PARSED_BODY = "_source_claude_parsed_body"
_NOT_JSON = object()
REPORT_PAGE_KEYS = ("data", "has_more")
# The Admin API's two ways to page: the query parameter that asks for a page, and the body field naming the next.
PAGE_TOKENS = (("page", "next_page"), ("after_id", "last_id"))
# Said of every page that cannot be followed, with where to look.
CHECK_API_URL = ("check that api_url is https://api.anthropic.com, or a proxy that passes the page and after_id "
                 "parameters through and does not cache responses")


def parsed_body(response: requests.Response, exact_decimals: bool = False) -> Any:
    """The response body parsed once (cached on the response); _NOT_JSON if it is not JSON. exact_decimals parses
    numbers with a fraction as Decimal (slower), for pages whose money is a JSON number."""
    body = vars(response).get(_PARSED_BODY, None)
    if body is None:
        try:
            body = loads_exact(response.content) if exact_decimals else loads_fast(response.content)
        except ValueError:  # orjson.JSONDecodeError and json.JSONDecodeError are both ValueErrors
            body = _NOT_JSON
        setattr(response, _PARSED_BODY, body)
    return body


# A \uD800-\uDFFF escape: half of a UTF-16 pair, which JSON allows alone (a name cut inside an emoji) and orjson,
# which parses pages and writes records, refuses.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def loads_fast(content: bytes) -> Any:
    """JSON text parsed by orjson; by the standard library only when orjson refuses a half emoji."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        if not _SURROGATE_ESCAPE.search(content):
            raise
    return without_lone_surrogates(json.loads(content))


def loads_exact(content: bytes) -> Any:
    """JSON text parsed with exact decimals (numbers with a fraction as Decimal)."""
    body = json.loads(content, parse_float=Decimal)
    return without_lone_surrogates(body) if _SURROGATE_ESCAPE.search(content) else body


def without_lone_surrogates(value: Any) -> Any:
    """A parsed value whose texts have each half of a UTF-16 pair that stands alone replaced by U+FFFD, as a UTF-8
    decoder replaces what it cannot read: no runtime's serializer writes a lone surrogate (the pairs were joined)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {without_lone_surrogates(key): without_lone_surrogates(member) for key, member in value.items()}
    if isinstance(value, list):
        return [without_lone_surrogates(member) for member in value]
    return value


def read_page(response: requests.Response, page_keys: Sequence[str] = REPORT_PAGE_KEYS,
              exact_decimals: bool = False) -> Optional[Mapping[str, Any]]:
    """The parsed body if it is a whole page (an object with page_keys; `data` a list, `has_more` a boolean)."""
    body = parsed_body(response, exact_decimals)
    return body if page_problem(body, page_keys) is None else None


def page_problem(body: Any, page_keys: Sequence[str], whole_buckets: bool = False) -> Optional[str]:
    """What keeps a parsed body from being a whole page (whole_buckets: of whole report buckets); None if it is one."""
    if body is _NOT_JSON:
        return "cut short, or not JSON"
    if not isinstance(body, dict):
        return "not a JSON object"
    missing = next((key for key in page_keys if key not in body), None)
    if missing is not None:
        return f"it has no {missing}"
    if "data" in page_keys and not isinstance(body["data"], list):
        return "its data is not a list"
    if "has_more" in page_keys and not isinstance(body["has_more"], bool):
        return "its has_more is neither true nor false"
    if body.get("has_more") is True and all(body.get(field) in (None, "") for _, field in PAGE_TOKENS):
        return "it says has_more true but names no next page"
    if whole_buckets:
        return next(filter(None, map(bucket_problem, body["data"])), None)
    return None


def page_settings(parameters: Mapping[str, Any]) -> Tuple[Tuple[str, ...], bool]:
    """A stream's page_keys and exact_decimals (see read_page), from its $parameters: given once, for its error
    handler, which parses each page, and its ParsedPageDecoder, which must read it alike."""
    return tuple(parameters.get("page_keys") or REPORT_PAGE_KEYS), bool(parameters.get("exact_decimals"))


def window_gap(response: requests.Response, page: Mapping[str, Any]) -> Optional[str]:
    """Where a report page leaves its window uncovered; None if it covers its share. The API returns a bucket for
    every day or hour asked for, empty ones included, oldest first, so a gap means a lost bucket."""
    window = requested_window(response)
    if window is None:
        return None
    reach: Optional[datetime] = None if "page" in request_query(response) else window[0]
    try:
        for bucket in page["data"]:
            starting_at, ending_at = utc_moment(bucket["starting_at"]), utc_moment(bucket["ending_at"])
            if reach is not None and starting_at > reach:
                return f"it has no bucket from {reach:%Y-%m-%dT%H:%M:%SZ} to {bucket['starting_at']}"
            reach = ending_at if reach is None else max(reach, ending_at)
    except (TypeError, ValueError):
        return None  # a bucket this connector cannot read: the extractor says so
    if page["has_more"] is False and (reach is None or reach < window[1]):
        stop = f"its buckets stop at {reach:%Y-%m-%dT%H:%M:%SZ}" if reach else "it has no bucket"
        return f"{stop}, short of the window's end at {window[1]:%Y-%m-%dT%H:%M:%SZ}, and it says there is no more"
    return None


def bucket_problem(bucket: Any) -> Optional[str]:
    """What keeps a report bucket from being whole; None if it is. Its results may be empty, never absent."""
    if not isinstance(bucket, dict):
        return "a bucket is not an object"
    starting_at = bucket.get("starting_at")
    if not isinstance(starting_at, str):
        return "a bucket has no starting_at"
    if not isinstance(bucket.get("ending_at"), str):
        return f"the bucket of {starting_at} has no ending_at"
    if not isinstance(bucket.get("results"), list):
        return f"the bucket of {starting_at} has no results list"
    return None


def whole_page(response: requests.Response, page_keys: Sequence[str] = REPORT_PAGE_KEYS,
               exact_decimals: bool = False) -> Mapping[str, Any]:
    """The parsed page; a body that is not a whole page fails loudly (its retries are spent) instead of reading as
    empty."""
    page = read_page(response, page_keys, exact_decimals)
    if page is None:
        raise AirbyteTracedException(
            message=(
                "The Anthropic Admin API returned a response that is not a whole page "
                f"(HTTP {response.status_code}). Retry the sync; if it persists, check api_url points at the Admin "
                "API. "
                f"{NEXT_SYNC}"
            ),
            internal_message=f"Unreadable page from {response.url}",
            failure_type=FailureType.transient_error,
        )
    return page


@dataclass
class ParsedPageDecoder(JsonDecoder):
    """Stands in for JsonDecoder, which would parse the body again: hands the paginator (and a DpathExtractor) the page
    the error handler already parsed. It subclasses JsonDecoder only because the CDK accepts nothing else for
    pagination. A page is read as the stream's $parameters say, as its error handler reads it (see page_settings)."""

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._page_keys, self._exact_decimals = page_settings(parameters)

    def is_stream_response(self) -> bool:
        return False

    def decode(self, response: requests.Response) -> Generator[MutableMapping[str, Any], None, None]:
        yield dict(whole_page(response, self._page_keys, self._exact_decimals))


# -- The error handler -------------------------------------------------------------------------------------------------


@dataclass
class AdminApiErrorHandler(DefaultErrorHandler):
    """Stands in for DefaultErrorHandler alone, whose filters and strategies (the manifest's, still used) see only
    the status code. Beyond them:
    - a 2xx that is not a whole page, says has_more without a next page, or leaves a bucket of its window uncovered
      is fetched again (a filter predicate would parse every body again: measured as the largest per-response
      cost); the body is parsed once here, for the paginator and the extractor;
    - a page that names its own token as the next fails before its records are read;
    - `x-should-retry` overrides the status, as Anthropic's SDKs obey it;
    - a 429 that names its reset is retried within RATE_LIMIT_BUDGET_SECONDS, every other failure MAX_RETRIES
      times, and the last ends the sync in one sentence that says what to do (the CDK counts every retry alike);
    - each skip is said once as a warning (IGNORE logs at info), each wait with its cause and end;
    - a 401 stops the whole sync, not one window (stop_sync).
    """

    whole_buckets: bool = False
    # Engagement: a 400 that names the latest day the API has (see latest_day_named) ends the stream's days there
    # for this sync (CheckpointEachWindow reads latest_day), instead of failing it.
    latest_day_in_refusals: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name") or "this stream"
        self.latest_day: Optional[str] = None
        self._skips_said: Set[str] = set()
        # Per URL being retried: when it was first answered and how many retries it has had. The CDK resends the
        # same URL until it succeeds or fails, and the entry goes with that outcome.
        self._retries: Dict[str, List[float]] = {}
        super().__post_init__(parameters)
        self._page_keys, self._exact_decimals = page_settings(parameters)
        # The CDK's own retry count and time limit must never end a retry this handler still allows.
        self.max_retries, self.max_time = CDK_RETRY_CEILING, RATE_LIMIT_BUDGET_SECONDS + MAX_SINGLE_WAIT_SECONDS
        # The CDK asks the handler's backoff_strategies for each wait: this handler answers, from the declared ones,
        # so that each wait is logged with its cause and its end.
        self._waits, self.backoff_strategies = self.backoff_strategies or [], [self]

    def backoff_time(self, response_or_exception: Any, attempt_count: int = 0) -> Optional[float]:
        """The wait the declared backoff_strategies give (the first that answers), logged in one line: what limited
        the sync, how long it waits and until when (the CDK logs a wait without its cause or end)."""
        wait = next(filter(None, (strategy.backoff_time(response_or_exception=response_or_exception,
                                                        attempt_count=attempt_count) for strategy in self._waits)),
                    None)
        reset_at = rate_limit_reset(response_or_exception)
        limit = header_int(response_or_exception, LIMIT_HEADER) if reset_at is not None else None
        if wait:
            total = wait + CDK_WAIT_MARGIN_SECONDS
            logger.info(f"Waiting {total:.1f} s, until {utc_time(time.time() + total)}, before retrying: "
                        f"{describe_failure(response_or_exception, reset_at, limit)}.")
        return wait

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]
                           ) -> ErrorResolution:
        response = response_or_exception if isinstance(response_or_exception, requests.Response) else None
        body, incomplete = None, None
        if response is not None and response.ok:
            body = parsed_body(response, self._exact_decimals)
            incomplete = page_problem(body, self._page_keys, self.whole_buckets)
            if self.whole_buckets and not incomplete:
                incomplete = window_gap(response, body)
        refused_as_not_finished = self.latest_day_in_refusals and response is not None and response.status_code == 400
        newest_day = latest_day_named(response) if refused_as_not_finished else None
        if incomplete:
            resolution = ErrorResolution(ResponseAction.RETRY, FailureType.transient_error,
                                         f"The Anthropic Admin API returned a page that is not whole ({incomplete}); "
                                         "retrying.")
        elif body is not None and names_its_own_token(response, body):
            # Before the extractor sees it: its records are most likely the previous page's again.
            resolution = ErrorResolution(ResponseAction.FAIL, FailureType.system_error, repeated_own_token(response))
        elif newest_day:
            resolution = ErrorResolution(ResponseAction.IGNORE, None, None)
            if self.latest_day is None:
                logger.info(f"{self._stream} is read up to {newest_day}, the newest day the API has finished: a "
                            "later sync reads the days after it.")
            self.latest_day = newest_day
        elif isinstance(response_or_exception, ResponseOverLimit):
            retry = response_or_exception.retry
            resolution = ErrorResolution(ResponseAction.RETRY if retry else ResponseAction.FAIL,
                                         FailureType.transient_error if retry else FailureType.system_error,
                                         str(response_or_exception))
        else:
            resolution = super().interpret_response(response_or_exception)
        if response is not None:
            resolution = obey_should_retry(response, resolution)
        skip = resolution.error_message or ""
        if resolution.response_action == ResponseAction.IGNORE and skip and skip not in self._skips_said:
            self._skips_said.add(skip)
            logger.warning(skip)
        if (isinstance(response_or_exception, requests.RequestException)
                and resolution.response_action == ResponseAction.RETRY):
            # No HTTP answer at all: say so in one sentence instead of urllib3's repr of the connection pool.
            request = response_or_exception.request
            url = request.url if request is not None and request.url else "the Anthropic API"
            resolution = ErrorResolution(ResponseAction.RETRY, FailureType.transient_error,
                                         connection_problem(url, response_or_exception))
        resolution = with_next_sync(self._within_retry_budget(response_or_exception, resolution, incomplete))
        if response is not None and response.status_code == 401 and resolution.response_action == ResponseAction.FAIL:
            stop_sync(self.config, resolution.error_message or "Anthropic rejected the key (HTTP 401).")
        return resolution

    def _within_retry_budget(self, response_or_exception: Any, resolution: ErrorResolution,
                             incomplete: Optional[str] = None) -> ErrorResolution:
        request = request_url(response_or_exception)
        if not request:
            return resolution
        if resolution.response_action not in (ResponseAction.RETRY, ResponseAction.RATE_LIMITED):
            self._retries.pop(request, None)
            return resolution
        now = time.time()
        first_answer_at, retries = self._retries.setdefault(request, [now, 0])
        reset_at = rate_limit_reset(response_or_exception)
        retry_after = retry_after_seconds(response_or_exception)
        if reset_at is None and retry_after is not None and retry_after >= MAX_SINGLE_WAIT_SECONDS:
            # The manifest's WaitTimeFromHeader would refuse the wait too, but in the CDK's words, not what to do.
            self._retries.pop(request, None)
            return ErrorResolution(ResponseAction.FAIL, resolution.failure_type or FailureType.transient_error,
                                   too_long_a_wait(response_or_exception, retry_after))
        if reset_at is not None:
            allowed = reset_at - first_answer_at <= RATE_LIMIT_BUDGET_SECONDS
        else:
            allowed = retries < MAX_RETRIES
        if not allowed:
            self._retries.pop(request, None)
            return ErrorResolution(ResponseAction.FAIL, resolution.failure_type or FailureType.transient_error,
                                   final_message(response_or_exception, resolution, incomplete))
        self._retries[request] = [first_answer_at, retries + 1]
        return resolution


# What every failure that ends a sync says last, where it arises (a config error says what to fix instead): the CDK's
# own summary of a failed sync lists the streams' exceptions, not what happens next.
NEXT_SYNC = ("Every record up to each stream's last saved state was delivered: once the cause is fixed, the next sync "
             "resumes each incremental stream from there (and reads a full refresh again in full).")


def with_next_sync(resolution: ErrorResolution) -> ErrorResolution:
    if resolution.response_action != ResponseAction.FAIL or resolution.failure_type == FailureType.config_error:
        return resolution
    return ErrorResolution(resolution.response_action, resolution.failure_type,
                           f"{full_stop(resolution.error_message or 'The Anthropic Admin API request failed.')} "
                           f"{NEXT_SYNC}")


def full_stop(text: str) -> str:
    """The text as a sentence: the API's own messages (quoted into ours) often end without a full stop."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def latest_day_named(response: requests.Response) -> Optional[str]:
    """The latest day the API has, as its refusal of a day not available yet names it: a date in the message before
    the day asked (the message may name both, in no documented order); None for any other refusal."""
    query = request_query(response)
    asked = (query.get("date") or query.get("starting_date") or [""])[0]
    earlier = [day for day in re.findall(r"\b\d{4}-\d{2}-\d{2}\b", api_error_message(response) or "") if day < asked]
    return max(earlier, default=None)


def obey_should_retry(response: requests.Response, resolution: ErrorResolution) -> ErrorResolution:
    """The resolution as `x-should-retry` overrides it. Not a filter predicate on the header: a predicate cannot see
    the status, so it could not tell a 4xx marked `false` (whose own filter must keep its sentence) from a 5xx."""
    should_retry = response.headers.get(SHOULD_RETRY_HEADER, "").strip().lower()
    if should_retry == "false" and resolution.response_action in (ResponseAction.RETRY, ResponseAction.RATE_LIMITED):
        return ErrorResolution(
            ResponseAction.FAIL, resolution.failure_type or FailureType.transient_error,
            f"The Anthropic Admin API answered HTTP {response.status_code} and said not to retry "
            f"(x-should-retry: false): {api_error_message(response) or resolution.error_message}",
        )
    if should_retry == "true" and resolution.response_action == ResponseAction.FAIL:
        return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error, resolution.error_message)
    return resolution


def final_message(response_or_exception: Any, resolution: ErrorResolution, incomplete: Optional[str] = None) -> str:
    """The one sentence a sync ends with when a request's retries are spent; incomplete: what was wrong with the
    page, when the answer was a 2xx that is not a whole page."""
    if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code == 429:
        reset_at = rate_limit_reset(response_or_exception)
        how_long = (f"until {utc_time(reset_at)}, past the {RATE_LIMIT_BUDGET_SECONDS // 60} minutes the connector "
                    "waits for one request" if reset_at is not None else f"through {MAX_RETRIES} retries")
        return (
            f"The Anthropic Admin API kept rate limiting this organization (HTTP 429) {how_long}. Its request limit "
            "is shared by every key and tool of the organization, so another tool may be polling it (set "
            "max_requests_per_minute to leave it room)."
        )
    if incomplete:
        return (f"The Anthropic Admin API kept answering {where(response_or_exception)} with a page that is not whole "
                f"({incomplete}) through {MAX_RETRIES} retries: check that api_url is https://api.anthropic.com, or "
                "a proxy that passes responses through whole and unchanged.")
    return resolution.error_message or "The Anthropic Admin API kept failing through every retry."


def too_long_a_wait(response: requests.Response, retry_after: float) -> str:
    return (f"The Anthropic Admin API asked to wait {how_long(retry_after)} before the next request (HTTP "
            f"{response.status_code}, retry-after: {response.headers.get('retry-after')}), longer than the "
            f"{MAX_SINGLE_WAIT_SECONDS // 60} minutes the connector waits for one: run the sync again after "
            f"{utc_time(time.time() + retry_after)}.")


def api_error_message(response: requests.Response) -> Optional[str]:
    """The `error.message` of an Anthropic error body, if the body is one."""
    body = parsed_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else None


# -- Rate limits -------------------------------------------------------------------------------------------------------
# The Admin API's limit is the organization's: every key and tool of the organization shares it. Its 429s carry no
# retry-after but the time the limit resets (RFC 3339) and the limit itself, recorded from the live API.

RESET_HEADER = "anthropic-ratelimit-requests-reset"
LIMIT_HEADER = "anthropic-ratelimit-requests-limit"
REMAINING_HEADER = "anthropic-ratelimit-requests-remaining"
SHOULD_RETRY_HEADER = "x-should-retry"
# How long one request may spend waiting out rate limits that name their reset, before the sync gives up on it.
RATE_LIMIT_BUDGET_SECONDS = 15 * 60
# Retries of every other failure (5xx, 529, a 429 without a reset, no answer, an incomplete page).
MAX_RETRIES = 5
# The longest single wait a strategy may ask for (retry-after); it bounds the CDK's own time limit above the budget.
MAX_SINGLE_WAIT_SECONDS = 600
CDK_RETRY_CEILING = 10_000
# The CDK sleeps one second more than a strategy asks, "to cover any fractions of second".
CDK_WAIT_MARGIN_SECONDS = 1.0

# The organizations whose key the API rejected in this process (see stop_sync), and why.
_STOPPED_SYNCS: Dict[str, str] = {}


def stop_sync(config: Mapping[str, Any], sentence: str) -> bool:
    """No request may follow, from any stream or window, once the API has rejected the key (sentence says so, and
    what to do): the CDK fails each window on its own and reads on, so a wrong key would draw a 401 per window. True
    if this call stopped the sync."""
    organization = organization_key(config)
    first = organization not in _STOPPED_SYNCS
    _STOPPED_SYNCS.setdefault(organization, sentence)
    return first


def stopped_by(config: Mapping[str, Any]) -> Optional[str]:
    return _STOPPED_SYNCS.get(organization_key(config))


def stopped_sync(sentence: str, first: bool = False) -> AirbyteTracedException:
    """The error of a stream stopped with the sync: each stream says the sentence, and the CDK's closing summary,
    which lists them by their internal message, names the cause once."""
    internal = sentence if first else "Not read: the sync stopped at an earlier refusal of the key."
    return AirbyteTracedException(internal_message=internal, message=sentence, failure_type=FailureType.config_error)


def organization_key(config: Mapping[str, Any]) -> str:
    """What tells one organization's reads in this process from another's: a digest of the API URL and key."""
    api_url = (config.get("api_url") or DEFAULT_API_URL).rstrip("/")
    return hashlib.sha256(f"{api_url} {config.get('admin_api_key')}".encode()).hexdigest()


def rate_limit_reset(response_or_exception: Any) -> Optional[float]:
    """When a 429's spent limit resets (epoch seconds); None for anything else. As the manifest's
    WaitTimeFromResponse reads it: a 429 with requests remaining, or a reset already past, names no reset and is
    retried MAX_RETRIES times with backoff."""
    if not isinstance(response_or_exception, requests.Response) or response_or_exception.status_code != 429 \
            or response_or_exception.headers.get(REMAINING_HEADER, "0") != "0":
        return None
    value = response_or_exception.headers.get(RESET_HEADER)
    try:
        reset_at = isoparse(value).timestamp() if value else None
    except (ValueError, OverflowError):
        return None
    return reset_at if reset_at is not None and reset_at > time.time() else None


def retry_after_seconds(response_or_exception: Any) -> Optional[float]:
    """A response's retry-after in seconds, when it is a number (as the manifest's WaitTimeFromHeader reads it)."""
    if not isinstance(response_or_exception, requests.Response):
        return None
    try:
        return float(response_or_exception.headers.get("retry-after", ""))
    except ValueError:
        return None


def header_int(response: requests.Response, name: str) -> Optional[int]:
    try:
        return int(response.headers.get(name, ""))
    except ValueError:
        return None


def utc_time(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def how_long(seconds: float) -> str:
    """A duration as a person says it: 1 day, 2.5 hours, 15 minutes."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size, 1)
            return f"{count:g} {unit}{'' if count == 1 else 's'}"
    return f"{seconds:g} seconds"


def describe_failure(response_or_exception: Any, reset_at: Optional[float] = None, limit: Optional[int] = None) -> str:
    if reset_at is not None:
        limited_by = "the organization's request limit" + (f" ({limit} requests)" if limit else "")
        return f"HTTP 429 from {limited_by}, which resets at {utc_time(reset_at)}"
    if isinstance(response_or_exception, requests.Response):
        if response_or_exception.status_code == 429:
            retry_after = response_or_exception.headers.get("retry-after")
            if retry_after:
                return f"HTTP 429 (retry-after: {retry_after})"
            reset, remaining = (response_or_exception.headers.get(name) for name in (RESET_HEADER, REMAINING_HEADER))
            if reset and remaining not in (None, "0"):
                return f"HTTP 429 with {remaining} requests of the limit remaining"
            return f"HTTP 429 whose reset time ({reset}) is past or unreadable" if reset else \
                "HTTP 429 without a reset time"
        if response_or_exception.ok:
            return f"HTTP {response_or_exception.status_code} with a body that is not a whole page"
        return f"HTTP {response_or_exception.status_code}"
    return f"no answer ({type(response_or_exception).__name__})"


@dataclass
class GuardedAuthenticator(DeclarativeAuthenticator):
    """Stands in for the manifest's ApiKeyAuthenticator alone, which cannot refuse to send: the one component the CDK
    runs right before every attempt of every request, retries included. So it sends nothing once the API has
    rejected the key (stop_sync), and bounds each response's size and time (see bound_the_response)."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    authenticator: DeclarativeAuthenticator

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        mask_key(self.config.get("admin_api_key"))
        # Refused again here, where the key goes into a header, for a runtime that did not run the config rules.
        self._key_problem = key_problem(self.config.get("admin_api_key"))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        claim_run_directory()
        stopped = stopped_by(self.config)
        if stopped:
            raise stopped_sync(stopped)
        bound_the_response(request)
        return self.authenticator(request)

    @property
    def auth_header(self) -> str:
        return self.authenticator.auth_header

    @property
    def token(self) -> str:
        return self.authenticator.token

    def get_auth_header(self) -> Mapping[str, Any]:
        if self._key_problem:
            raise config_error(self._key_problem)
        return self.authenticator.get_auth_header()

    def get_request_params(self) -> Mapping[str, Any]:
        return self.authenticator.get_request_params()

    def get_request_body_data(self) -> Union[Mapping[str, Any], str]:
        return self.authenticator.get_request_body_data()

    def get_request_body_json(self) -> Mapping[str, Any]:
        return self.authenticator.get_request_body_json()


# -- Bounded responses -------------------------------------------------------------------------------------------------
# The CDK bounds each socket read (read_timeout_in_seconds), not a response: a server or proxy can send an endless
# body, which requests holds in memory whole (and parses again), or drip it a byte at a time, each read in time.

# The largest page the API sends is a few MB (1,000 list items, or a 31-day window of buckets); 64 MiB is ten times
# that, and little enough for a worker's memory while it is held, joined and parsed.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# A page of a few MB arrives in seconds; five minutes would let 64 MiB through at under 2 Mbit/s. A socket read
# that has begun may end up to read_timeout_in_seconds past it.
MAX_RESPONSE_SECONDS = 300
_RESPONSE_CHUNK_BYTES = 1024 * 1024
_SENT_AT = "_source_claude_sent_at"


class ResponseOverLimit(requests.exceptions.RequestException):
    """A response the connector stopped reading, too large or too slow, which read_timeout_in_seconds (a bound on each
    socket read, not on a response) lets through: its text is the sentence the sync ends with. A slow one is retried (a
    proxy may be busy), a large one fails at once (it would come as large again)."""

    def __init__(self, sentence: str, retry: bool, **kwargs: Any) -> None:
        super().__init__(sentence, **kwargs)
        self.retry = retry


def bound_the_response(request: requests.PreparedRequest) -> None:
    """Has requests read the response to this request, as it is sent (again), through bounded_body."""
    setattr(request, _SENT_AT, time.monotonic())
    if bounded_body not in request.hooks["response"]:
        request.register_hook("response", bounded_body)


def bounded_body(response: requests.Response, *_: Any, **options: Any) -> None:
    """A response hook: reads the body, as requests would right after its hooks, up to MAX_RESPONSE_BYTES and within
    MAX_RESPONSE_SECONDS of the request being sent; else drops the connection and raises ResponseOverLimit."""
    if options.get("stream") or response._content_consumed:
        return
    deadline = getattr(response.request, _SENT_AT, time.monotonic()) + MAX_RESPONSE_SECONDS
    body, size = [], 0
    try:
        while True:
            # read1 returns what has arrived, so a drip is seen between bytes, not only once a whole chunk is in.
            chunk = response.raw.read1(_RESPONSE_CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            body.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES or time.monotonic() > deadline:
                response.close()
                raise response_over_limit(response, too_large=size > MAX_RESPONSE_BYTES)
    except urllib3.exceptions.HTTPError as error:  # mapped as requests' Response.iter_content maps them
        if isinstance(error, urllib3.exceptions.ProtocolError):
            raise requests.exceptions.ChunkedEncodingError(error) from error
        if isinstance(error, urllib3.exceptions.DecodeError):
            raise requests.exceptions.ContentDecodingError(error) from error
        raise requests.exceptions.ConnectionError(error) from error
    response._content = b"".join(body)
    response._content_consumed = True


def response_over_limit(response: requests.Response, too_large: bool) -> ResponseOverLimit:
    if too_large:
        sentence = (f"The Anthropic Admin API answered {where(response)} with more than "
                    f"{MAX_RESPONSE_BYTES / 2 ** 20:g} MiB, where a page is a few MB at most, so the connector stopped "
                    f"reading it: {CHECK_API_URL}.")
    else:
        sentence = (f"The Anthropic Admin API took more than {MAX_RESPONSE_SECONDS} s to send its answer to "
                    f"{where(response)}, where a page takes seconds, so the connector stopped reading it: "
                    f"{CHECK_API_URL}.")
    return ResponseOverLimit(sentence, retry=not too_large, request=response.request)


def connection_problem(url: str, error: Exception) -> str:
    """One sentence for a request that got no HTTP answer at all (or one it stopped reading)."""
    if isinstance(error, ResponseOverLimit):
        return str(error)
    parts = urlsplit(url)
    where = f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
    if isinstance(error, requests.exceptions.Timeout):
        return (f"{where} did not answer in time ({type(error).__name__}): check api_url, and that this machine "
                "may make outbound HTTPS requests to it.")
    return (f"Could not connect to {where} ({type(error).__name__}): check api_url, and that this machine may "
            "make outbound HTTPS requests to it (DNS, firewall, proxy).")


# -- Pages that cannot be followed -------------------------------------------------------------------------------------
# A server or proxy that ignores the page token answers the same page, naming the same next page, forever: the CDK
# would follow it, and a cached requester (workspaces, the shared Claude Code pages) replays it without a request.


def request_url(response: requests.Response) -> str:
    url = getattr(getattr(response, "request", None), "url", None)
    return url if isinstance(url, str) else ""


def request_query(response: requests.Response) -> Dict[str, List[str]]:
    """The query string of the request a response answers."""
    return parse_qs(urlsplit(request_url(response)).query)


def names_its_own_token(response: requests.Response, page: Mapping[str, Any]) -> bool:
    """Whether a page says there is more and names, as the next page, the very token it was asked with."""
    if page.get("has_more") is not True:
        return False
    query = request_query(response)
    return any(page.get(field) in query.get(parameter, ()) for parameter, field in PAGE_TOKENS)


def where(response: requests.Response) -> str:
    """The path a response answers, and its window or day when the request names one."""
    parts = urlsplit(request_url(response))
    query = parse_qs(parts.query)
    path = parts.path or "the Admin API"
    start, end = (next((query[name][0] for name in names if name in query), None)
                  for names in (("starting_at", "starting_date", "date"), ("ending_at", "ending_date")))
    if end:
        return f"{path} for {start or '?'} to {end}"
    return f"{path} for {start}" if start else path


def repeated_own_token(response: requests.Response) -> str:
    return (f"The Anthropic Admin API answered {where(response)} with has_more true and the same page token it was "
            f"asked with, so following it would read that page forever: {CHECK_API_URL}.")


# Set on a response by the stream's extractor: how many of its page's items (buckets, records, rows, list items) the
# page's slice had not read before. A page that says there is more but adds none is read again and again.
_NEW_ITEMS = "_source_claude_new_items"
# Pages of one slice (a Claude Code day, a list, an analytics day) when nothing tighter bounds them: at 1,000 rows a
# page, a million rows, far beyond any organization's Claude Code records of a day (one per user, terminal and
# remote flag), users, API keys, workspaces or invites, or analytics rows of a day.
MAX_PAGES_PER_SLICE = 1_000


def slice_of(response: requests.Response) -> Tuple[str, Tuple[Tuple[str, str], ...]]:
    """The slice a page belongs to: its request's path and query, without the page token."""
    parts = urlsplit(request_url(response))
    tokens = {parameter for parameter, _ in PAGE_TOKENS}
    return parts.path, tuple(sorted((name, value) for name, values in parse_qs(parts.query).items()
                                    if name not in tokens for value in values))


class SliceItems:
    """What no RecordFilter or stop_condition can keep, as each sees one page: the items a slice has read, by key,
    with a digest of their values. The same item again is dropped (one warning per stream); the same key with other
    values stops the sync, as either copy could be wrong. After an analytics restart (HTTP 410) an item read before
    is skipped whatever its values."""

    def __init__(self, stream: str) -> None:
        self._stream = stream
        self._slice: Any = None
        self._more = False
        self._digests: Dict[Any, int] = {}
        self._this_pass: Optional[Set[Any]] = None
        self._warned = False

    def page(self, response: requests.Response, has_more: bool = False) -> bool:
        """Starts reading a page; True if it starts its slice afresh. A first page after one that said has_more is a
        restart of the slice's paging (the analytics 410), not a new slice."""
        first_page = not any(parameter in request_query(response) for parameter, _ in PAGE_TOKENS)
        this_slice = slice_of(response)
        restarted = first_page and self._more and this_slice == self._slice
        fresh = (first_page or this_slice != self._slice) and not restarted
        if restarted:
            self._this_pass = set()
        elif fresh:
            self._digests, self._this_pass = {}, None
        self._slice, self._more = this_slice, has_more
        setattr(response, _NEW_ITEMS, 0)
        return fresh

    def first_time(self, response: requests.Response, key: Any, item: Any, what: str) -> bool:
        """Whether `item` is new to its slice (counted on the response); False for one read before."""
        digest = hash(orjson.dumps(item, default=str))
        known = self._digests.get(key)
        if self._this_pass is not None:
            if key not in self._this_pass:
                self._this_pass.add(key)
                setattr(response, _NEW_ITEMS, getattr(response, _NEW_ITEMS, 0) + 1)
            if known is not None:
                return False  # emitted before the cursor expired
        elif known is None:
            setattr(response, _NEW_ITEMS, getattr(response, _NEW_ITEMS, 0) + 1)
        if known is None:
            self._digests[key] = digest
            return True
        self.again(response, what, known == digest)
        return False

    def again(self, response: requests.Response, what: str, same_values: bool) -> None:
        """Drops an item read a second time in one slice (said once per stream), or stops on different values."""
        if not same_values:
            raise AirbyteTracedException(
                message=(f"The Anthropic Admin API returned {what} twice for {where(response)}, with different values, "
                         "so the sync stops rather than count it twice or pick one: run the sync again; if it "
                         "persists, check that api_url is https://api.anthropic.com, or a proxy that passes responses "
                         f"through unchanged. {NEXT_SYNC}"),
                internal_message=f"Two values of {what} in {self._stream}, reading {request_url(response)}",
                failure_type=FailureType.transient_error,
            )
        if not self._warned:
            self._warned = True
            logger.warning(f"Dropped a second copy of {what}, which the Anthropic Admin API returned again for "
                           f"{where(response)}: {self._stream} emits each row once. Later copies are dropped without a "
                           "warning.")


@dataclass
class NoRepeatedPages(PaginationStrategy):
    """Stands in for CursorPagination alone, whose stop_condition sees one page: ends the sync in one sentence
    instead of paging forever when a token comes twice in a slice, a page that says there is more adds nothing new
    (SliceItems), or a slice has more pages than its buckets (window_buckets) or max_pages allow."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    pagination_strategy: PaginationStrategy
    # Interpolated with stream_interval: the buckets of a report window (its days, or its hours for hourly buckets).
    # A page holds at least one bucket, so a window has at most that many pages.
    window_buckets: Optional[str] = None
    # What one bucket spans, as the sentence that ends the sync names it: days or hours.
    bucket_unit: str = "days"
    # Interpolated with stream_interval: the most pages of a slice that window_buckets does not bound.
    max_pages: Optional[str] = None
    # Not written in the manifest: the CDK's factory passes the paginator's decoder.
    decoder: Optional[Decoder] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        # The CDK builds the wrapped strategy with a fresh JsonDecoder; it must read the page already parsed.
        if self.decoder is not None and hasattr(self.pagination_strategy, "decoder"):
            self.pagination_strategy.decoder = self.decoder
        self._window_buckets = (InterpolatedString.create(self.window_buckets, parameters=parameters)
                                if self.window_buckets else None)
        self._max_pages = InterpolatedString.create(self.max_pages or str(MAX_PAGES_PER_SLICE), parameters=parameters)
        self._tokens_seen: Dict[Any, List[Any]] = {}

    @property
    def initial_token(self) -> Optional[Any]:
        return self.pagination_strategy.initial_token

    def get_page_size(self) -> Optional[int]:
        return self.pagination_strategy.get_page_size()

    def next_page_token(self, response: requests.Response, last_page_size: int, last_record: Optional[Record],
                        last_page_token_value: Optional[Any] = None, page_size_override: Optional[int] = None,
                        stream_slice: Optional[StreamSlice] = None) -> Optional[Any]:
        token = self.pagination_strategy.next_page_token(
            response, last_page_size, last_record, last_page_token_value,
            **page_size_override_kwargs(page_size_override),
            **stream_slice_kwargs(self.pagination_strategy.next_page_token, stream_slice),
        )
        if last_page_token_value is None:
            # A window's first page (or its first page again, after the CDK reset its paging): no token seen yet.
            seen = self._tokens_seen[stream_slice] = []
        else:
            seen = self._tokens_seen.setdefault(stream_slice, [])
            seen.append(last_page_token_value)
        if token is None:
            self._tokens_seen.pop(stream_slice, None)
            return None
        if token in seen:
            raise AirbyteTracedException(
                message=(f"The Anthropic Admin API named a page token a second time while paging {where(response)}, "
                         f"so following it would read the same pages forever: {CHECK_API_URL}. {NEXT_SYNC}"),
                internal_message=f"Page token {token!r} repeated after {len(seen)} pages",
                failure_type=FailureType.system_error,
            )
        if getattr(response, _NEW_ITEMS, None) == 0:
            raise AirbyteTracedException(
                message=(f"The Anthropic Admin API said it had more after a page of {where(response)} that held "
                         "nothing it had not already sent for it, so following it would read the same rows forever: "
                         f"{CHECK_API_URL}. {NEXT_SYNC}"),
                internal_message=f"Page {len(seen) + 1} added no new item; its next token is {token!r}",
                failure_type=FailureType.system_error,
            )
        pages, buckets = len(seen) + 1, self._buckets_of(stream_slice)
        if buckets is not None:
            bound = f"more pages than its {buckets} {self.bucket_unit} of buckets can fill" if pages >= buckets else ""
        else:
            max_pages = int(self._max_pages.eval(self.config, stream_slice=stream_slice))
            rows = request_query(response).get("limit", ["?"])[0]
            bound = (f"more than the {max_pages:,} pages of up to {rows} rows each that any organization's data fills"
                     if pages >= max_pages else "")
        if bound:
            raise AirbyteTracedException(
                message=(f"The Anthropic Admin API still had more after {pages} pages of {where(response)}, {bound}, "
                         f"so it would page forever: {CHECK_API_URL}. {NEXT_SYNC}"),
                internal_message=f"Page {pages + 1} asked for with token {token!r}",
                failure_type=FailureType.system_error,
            )
        return token

    def _buckets_of(self, stream_slice: Optional[StreamSlice]) -> Optional[int]:
        if self._window_buckets is None or stream_slice is None:
            return None
        return int(self._window_buckets.eval(self.config, stream_slice=stream_slice))


# How often one window may start again from its first page before the sync ends.
MAX_WINDOW_RESTARTS = 3


class WindowRestarts(PaginationTracker):
    """The PaginationTracker of the analytics streams' declared PaginationReset (HTTP 410: RESET_PAGINATION), whose
    CDK default allows one restart per window, then fails with no message for users ("Something went wrong in the
    connector"). This one allows MAX_WINDOW_RESTARTS, says each in one info line, then ends the sync in one sentence;
    a 410 on a first page, which has no cursor, is bounded alike. SliceItems skips the rows already emitted."""

    def __init__(self, stream: str) -> None:
        super().__init__()
        self._stream = stream
        self._restarts = 0

    def reduce_slice_range_if_possible(self, previous_stream_slice: StreamSlice,
                                       original_stream_slice: StreamSlice) -> StreamSlice:
        window = (f"{self._stream} for {str(original_stream_slice.get('start_time'))[:10]} to "
                  f"{str(original_stream_slice.get('end_time'))[:10]}")
        self._restarts += 1
        if self._restarts > MAX_WINDOW_RESTARTS:
            raise AirbyteTracedException(
                message=(f"The Anthropic Admin API kept answering {window} with HTTP 410 (its page cursor expired as "
                         f"the data was refreshed) after {MAX_WINDOW_RESTARTS} restarts from the window's first page: "
                         f"run the sync again later, once the refresh is done. {NEXT_SYNC}"),
                internal_message=f"HTTP 410 after {MAX_WINDOW_RESTARTS} restarts of {original_stream_slice}",
                failure_type=FailureType.transient_error,
            )
        logger.info(f"The page cursor of {window} expired (HTTP 410): reading the window again from its first page, "
                    "without emitting the rows already read.")
        return original_stream_slice


# -- Requesters --------------------------------------------------------------------------------------------------------


@dataclass
class WrappedRequester(Requester):
    """Stands in for a list stream's HttpRequester alone, which cannot skip the stream before its first request:
    sends nothing, with one warning, when the key cannot read the stream's API (a parent stream's retriever must be
    the CDK's own, so this is the one place that runs first). Everything else goes to the HttpRequester it wraps."""

    requester: Requester
    # As a list stream's requester: the config, the stream's name and the API it reads (the factory passes the first
    # two). The subclasses send their own way: they wrap windowed streams, which CheckpointEachWindow skips.
    config: Config = field(default_factory=dict, kw_only=True)
    name: str = field(default="", kw_only=True)
    reads_api: str = field(default="admin", kw_only=True)

    def send_request(self, **request: Any) -> Optional[requests.Response]:
        if skip_unless_key_reads(self.config, self.reads_api, self.name or "this stream", self.requester):
            return None  # the retriever reads no page
        return self.requester.send_request(**request)

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
class ClaudeCodeSharedPagesRequester(WrappedRequester):
    """Stands in for use_cache, whose cache is per stream (a file named after it): lets both Claude Code streams read
    each day's pages from one request. Whole pages are kept in a SQLite file in the run's REQUEST_CACHE_PATH, as the
    CDK keeps its caches (disk, not memory, gone with the run); without that directory (the Connector Builder) each
    stream asks for its own pages."""

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
            keep_page(pages, response, key)
        return response

    def _shared_pages(self) -> Optional[SQLiteCache]:
        # Looked up at each request: the entrypoint sets the directory after the streams are built. The Connector
        # Builder runs no entrypoint: there the variable is unset, or names the directory of a run that has ended.
        directory = os.environ.get(ENV_REQUEST_CACHE_PATH)
        if not directory or not os.path.isdir(directory):
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


def keep_page(pages: SQLiteCache, response: requests.Response, key: str) -> None:
    """Keeps a page in the file as requests-cache would, without its request's headers: it would keep the key among
    them (it redacts X-API-Key, not x-api-key: it compares names case-sensitively)."""
    page = CachedResponse.from_response(response)
    page.request.headers = requests.structures.CaseInsensitiveDict()
    pages.responses[key] = page


# -- The run's temporary directory -------------------------------------------------------------------------------------
# The CDK's entrypoint makes a directory for each run (REQUEST_CACHE_PATH, where the Claude Code pages are kept, and
# where it writes the config, key included, as config.json), and deletes it when the run ends, but not when the run
# is cancelled (SIGTERM) or killed. The connector marks the directory as its run's, deletes it on SIGTERM, and
# deletes, when a run starts, the directories of runs that were killed.

RUN_MARK = "source-claude-run.lock"
_claimed: Dict[str, Any] = {}
_CLAIM_LOCK = threading.Lock()


def claim_run_directory(directory: Optional[str] = None) -> None:
    """Marks this run's entrypoint directory as this process's, deletes the config.json (with the key) the CDK wrote
    in it, and the directories killed runs left. Only a tempfile directory is claimed: REQUEST_CACHE_PATH may name a
    directory of the user's."""
    directory = directory or os.environ.get(ENV_REQUEST_CACHE_PATH)
    if not directory or _claimed.get("directory") == directory:
        return
    with _CLAIM_LOCK:
        if _claimed.get("directory") == directory or not is_a_run_directory(directory):
            return
        mark = os.path.join(directory, RUN_MARK)
        pending = f"{mark}.{os.getpid()}"
        try:
            handle = open(pending, "w")
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(pending, mark)  # named once locked, so no other run ever finds it unlocked
        except OSError:
            return
        if _claimed.get("mark"):
            _claimed["mark"].close()  # the previous run of this process (tests run many) has ended
        _claimed.update(directory=directory, mark=handle)
        with suppress(OSError):
            os.remove(os.path.join(directory, "config.json"))  # the CDK never reads it again
    remove_killed_runs(directory)


def is_a_run_directory(directory: str) -> bool:
    parent, name = os.path.split(os.path.abspath(directory))
    in_temp = parent == os.path.abspath(tempfile.gettempdir()) and name.startswith(tempfile.template)
    return fcntl is not None and in_temp and os.path.isdir(directory)


def remove_killed_runs(own_directory: str) -> None:
    """Deletes each directory another run marked and no longer holds: a live run holds its mark's lock until it
    ends, and the kernel lets go of it when a run is killed."""
    for mark in glob.glob(os.path.join(tempfile.gettempdir(), f"{tempfile.template}*", RUN_MARK)):
        directory = os.path.dirname(mark)
        if os.path.abspath(directory) == os.path.abspath(own_directory):
            continue
        try:
            with open(mark) as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(directory, ignore_errors=True)
        except OSError:
            continue  # a live run's, or already gone


def remove_run_directory_and_stop(signal_number: int, frame: Any) -> None:
    """On SIGTERM (a cancelled sync): deletes this run's directory, then ends as SIGTERM ends a process."""
    directory = _claimed.get("directory")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
    signal.signal(signal_number, signal.SIG_DFL)
    os.kill(os.getpid(), signal_number)


# Installed when the module is loaded, which both runtimes do on their main thread, the only one that may; not over a
# handler another program (the Connector Builder's server) has set.
if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, remove_run_directory_and_stop)


# -- 2. Records --------------------------------------------------------------------------------------------------------

# Objects flattened without their name as a prefix: `server_tool_use.web_search_requests` is `web_search_requests`.
UNPREFIXED_OBJECTS = frozenset({"server_tool_use"})
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass
class ShapedRecords(RecordExtractor):
    """Stands in for RecordExpander + FlattenFields + AddFields, which measured several times slower per record, keep
    nothing from one page to the next and make USD through Jinja floats.

    Each shape (`rows`) drops, with one warning, an item outside the window or day asked for, emits an item read twice
    once (SliceItems), and holds back analytics rows newer than data_refreshed_at. Money gets a <field>_usd at 9
    decimals."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    rows: str = "list"
    # report: the dimensions of a row's row_key beside its bucket start; list: the fields of the primary key.
    key: List[str] = field(default_factory=lambda: ["id"])
    money_fields: List[str] = field(default_factory=list)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        shapes = {"report": self._report_rows, "analytics": self._analytics_rows, "list": self._list_rows,
                  "claude_code_usage": self._claude_code_rows, "claude_code_model_usage": self._claude_code_rows,
                  "engagement": self._engagement_rows, "rate_limits": self._rate_limit_rows,
                  "workspace_rate_limits": self._rate_limit_rows}
        if self.rows not in shapes:
            raise ValueError(f"rows is {self.rows!r}: it must be one of {', '.join(shapes)}")
        self._shape = shapes[self.rows]
        self._page_keys, self._exact_decimals = page_settings(parameters)
        self._key, self._money = tuple(self.key), tuple(self.money_fields)
        self._numeric_money = (re.compile(rb'"(' + b"|".join(re.escape(m.encode()) for m in self._money)
                                          + rb')"\s*:\s*[-0-9]') if self._money else None)
        self._items = SliceItems(parameters.get("name") or "this stream")
        self._warned_outside = self._warned_watermark = self._fresh_slice = False
        self._refreshed: Dict[Any, Optional[datetime]] = {}

    def data_refreshed_at(self, window_start: datetime) -> Optional[datetime]:
        """The oldest data_refreshed_at the analytics window's pages named; None if they named none."""
        return self._refreshed.get(window_start)

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        with unreadable_records_end_the_sync(response):
            page = whole_page(response, self._page_keys, self._exact_decimals)
            exact = self._numeric_money is not None and self._numeric_money.search(response.content) is not None
            if exact:
                page = loads_exact(response.content)
            # Only analytics paging restarts (HTTP 410): its has_more tells a restart from a new window.
            self._fresh_slice = self._items.page(response, self.rows == "analytics" and page.get("has_more") is True)
            yield from self._shape(response, page, self._money if exact else ())

    def _report_rows(self, response: requests.Response, page: Mapping[str, Any],
                     exact: Sequence[str]) -> Iterator[MutableMapping[str, Any]]:
        window, key, money = requested_window(response), self._key, self._money
        for bucket in page["data"]:
            starting_at, ending_at = bucket["starting_at"], bucket["ending_at"]
            if window is not None and not window[0] <= utc_moment(starting_at) < window[1]:
                self._drop(response, f"the bucket of {starting_at}")
                continue
            if not self._items.first_time(response, starting_at, bucket, f"the bucket of {starting_at}"):
                continue
            rows_of_bucket: Dict[str, Any] = {}
            for result_row in bucket["results"]:
                record = flatten(exact_json(result_row, exact) if exact else result_row,
                                 {"starting_at": starting_at, "ending_at": ending_at})
                record_key = record["row_key"] = row_key(record, key)
                earlier = rows_of_bucket.setdefault(record_key, result_row)
                if earlier is not result_row:
                    self._items.again(response, f"a row of the bucket of {starting_at}", earlier == result_row)
                    continue
                yield with_usd(record, money)

    def _analytics_rows(self, response: requests.Response, page: Mapping[str, Any],
                        exact: Sequence[str]) -> Iterator[MutableMapping[str, Any]]:
        window, money = requested_window(response), self._money
        window_start = window[0] if window else None
        if self._fresh_slice:
            # Not on a restart: the rows its first pass held back are skipped now, so they stay unclaimed.
            self._refreshed.pop(window_start, None)
        refreshed_at = self._watermark(page.get("data_refreshed_at"), response)
        if refreshed_at is not None:
            known = self._refreshed.get(window_start)
            self._refreshed[window_start] = min(known, refreshed_at) if known else refreshed_at
        for row in page["data"]:
            starting_at = row["starting_at"]
            if window is not None and not window[0] <= utc_moment(starting_at) < window[1]:
                self._drop(response, f"a row of {starting_at}")
                continue
            record = analytics_record(exact_json(row, exact) if exact else row, money)
            if not self._items.first_time(response, record["row_key"], row, f"a row of {starting_at}"):
                continue
            if refreshed_at is not None and utc_moment(row["ending_at"]) > refreshed_at:
                continue  # not settled: read by a later sync
            yield with_usd(record, money)

    def _claude_code_rows(self, response: requests.Response, page: Mapping[str, Any],
                          exact: Sequence[str]) -> Iterator[MutableMapping[str, Any]]:
        asked = request_query(response).get("starting_at", [None])[0]
        rows = claude_code_usage_rows if self.rows == "claude_code_usage" else claude_code_model_usage_rows
        for report_record in page["data"]:
            day = utc_day(report_record.get("date")) or asked
            if asked is not None and day != asked:
                self._drop(response, f"a Claude Code record dated {day}")
                continue
            actor = claude_code_actor(report_record, day)
            if self._items.first_time(response, actor["row_key"], report_record, f"a Claude Code record of {day}"):
                yield from rows(actor, report_record)

    def _list_rows(self, response: requests.Response, page: Mapping[str, Any],
                   exact: Sequence[str]) -> Iterator[MutableMapping[str, Any]]:
        for item in page["data"]:
            if self._first_time(response, item, item):
                yield item

    def _engagement_rows(self, response: requests.Response, page: Mapping[str, Any],
                         exact: Sequence[str]) -> Iterator[MutableMapping[str, Any]]:
        """Rows of the day asked for, flattened, with their `date` (summaries name it in starting_at; the others do
        not name it at all)."""
        query = request_query(response)
        asked = (query.get("date") or query.get("starting_date") or [None])[0]
        for item in page["data"]:
            day = utc_day(item.get("starting_at")) or asked
            if day != asked:
                self._drop(response, f"a row of {day}")
                continue
            record = flatten(item, {})
            record["date"] = day
            if self._first_time(response, record, item):
                yield record

    def _rate_limit_rows(self, response: requests.Response, page: Mapping[str, Any],
                         exact: Sequence[str]) -> Iterator[MutableMapping[str, Any]]:
        """One row per limiter of each entry, any limiter type, beside its group: group.type and group.id, or in the
        API's older entries without group, group_type and (a key is never null) the entry's id, stable within the
        organization. A workspace's rows say the organization's value and whose value applies."""
        workspace = self.rows == "workspace_rate_limits"
        asked = urlsplit(request_url(response)).path.split("/")[-2]  # the workspace, which old entries did not name
        for entry in page["data"]:
            group, rate_limit_id = entry.get("group") or {}, entry.get("rate_limit_id" if workspace else "id")
            shared = {"group_id": group.get("id") or rate_limit_id,
                      "group_type": group.get("type") or entry.get("group_type"),
                      "group_display_name": group.get("display_name"), "models": entry.get("models"),
                      "rate_limit_id": rate_limit_id}
            if workspace:
                shared["workspace_id"] = entry.get("workspace_id") or asked
            for limit in entry["limits"]:
                record = {**shared, "limit_type": limit["type"], "value": limit.get("value")}
                if workspace:
                    record.update(org_limit=limit.get("org_limit"), source=(limit.get("source") or {}).get("type"))
                if self._first_time(response, record, record):
                    yield record

    def _first_time(self, response: requests.Response, keyed: Mapping[str, Any], item: Any) -> bool:
        """Whether the slice has not read `item` before, by the `key` fields of `keyed` (the item, or its record)."""
        key = tuple(keyed.get(name) for name in self._key)
        return self._items.first_time(response, key, item, " ".join(map(str, key)))

    def _drop(self, response: requests.Response, what: str) -> None:
        if not self._warned_outside:
            self._warned_outside = True
            query = request_query(response)
            asked = " to ".join(query[name][0] for name in ("starting_at", "starting_date", "date", "ending_at",
                                                             "ending_date") if name in query)
            logger.warning(f"Dropped {what}, which the Anthropic Admin API returned for a request of {asked} "
                           f"({urlsplit(request_url(response)).path}): nothing outside the window or day asked for is "
                           "emitted. Later ones are dropped without a warning.")

    def _watermark(self, refreshed: Any, response: requests.Response) -> Optional[datetime]:
        """The page's data_refreshed_at as an aware time; None, with one warning per stream, if it is not one."""
        with suppress(TypeError, ValueError):
            refreshed_at = utc_moment(refreshed)
            if refreshed_at.tzinfo is not None:
                return refreshed_at
        if refreshed is not None and not self._warned_watermark:
            self._warned_watermark = True
            logger.warning(f"Ignored the data_refreshed_at {str(refreshed)[:40]!r} that the Anthropic Admin API "
                           f"returned for {where(response)}: it is not a time with a time zone, so no day is held back "
                           "as not yet refreshed; the lookback re-reads the recent days. Later ones are ignored "
                           "without a warning.")
        return None


def requested_window(response: requests.Response) -> Optional[Tuple[datetime, datetime]]:
    """The [starting_at, ending_at) a report request asked for; None if it named no such window."""
    query = request_query(response)
    with suppress(KeyError, ValueError):
        return utc_moment(query["starting_at"][0]), utc_moment(query["ending_at"][0])
    return None


def utc_moment(value: str) -> datetime:
    """An RFC 3339 time as an aware datetime (a naive one cannot be compared, and the record is unreadable)."""
    return datetime.fromisoformat(value)


@contextmanager
def unreadable_records_end_the_sync(response: requests.Response) -> Iterator[None]:
    """Ends the sync in one sentence, not a bare KeyError or TypeError, on a record the extractor cannot read."""
    try:
        yield
    except (KeyError, IndexError, AttributeError, TypeError, ValueError, InvalidOperation) as error:
        raise AirbyteTracedException(
            message=(f"The Anthropic Admin API answered {where(response)} with a record this connector cannot read, "
                     "so the sync stops rather than skip it: check that api_url is https://api.anthropic.com, or a "
                     "proxy that passes responses through unchanged; if it is, the API has changed the shape of its "
                     f"records and the connector needs an update. {NEXT_SYNC}"),
            internal_message=f"{type(error).__name__}: {error}, reading a page from {request_url(response)}",
            failure_type=FailureType.system_error,
        ) from error


def flatten(obj: Mapping[str, Any], record: MutableMapping[str, Any], prefix: str = "") -> MutableMapping[str, Any]:
    """Adds obj's members to record, nested ones at every depth as <parent>_<child> (FlattenFields does not)."""
    for name, value in obj.items():
        if not isinstance(value, dict):
            record[prefix + name] = value
        elif prefix or name not in UNPREFIXED_OBJECTS:
            flatten(value, record, f"{prefix}{name}_")
        else:
            for member, member_value in value.items():
                flat_name = f"{name}_{member}" if member in obj else member
                if isinstance(member_value, dict):
                    flatten(member_value, record, flat_name + "_")
                else:
                    record[flat_name] = member_value
    return record


def row_key(record: Mapping[str, Any], dimensions: Iterable[str]) -> str:
    return stable_key([record["starting_at"], *(record.get(dimension) for dimension in dimensions)])


def stable_key(values: Sequence[Any]) -> str:
    """A never-null primary key: MD5 of the values as a JSON list, so null stays distinct from "None" or ""."""
    return md5(orjson.dumps(values), usedforsecurity=False).hexdigest()


def with_usd(record: MutableMapping[str, Any], money_fields: Sequence[str]) -> MutableMapping[str, Any]:
    """Adds <field>_usd = cents / 100 at USD_DECIMALS places beside each money field."""
    for money_field in money_fields:
        usd = cents_to_usd(record.get(money_field))
        if usd is not None:
            record[f"{money_field}_usd"] = exact_number(usd)
    return record


# A decimal of at most this many significant digits is the shortest text of its nearest double (15.95 digits).
FLOAT_EXACT_DIGITS = 15
# BigQuery, Redshift, ClickHouse, DuckDB and MySQL store a JSON number at 9 decimals (Databricks 10): a USD value with
# more would be rounded by each warehouse its own way, so it is rounded here, once, half to even. The API's cents carry
# at most 6 decimals (USD 8), so a real amount is never rounded; the cent amounts stay the lossless column.
USD_DECIMALS = 9
_USD_QUANTUM = Decimal(1).scaleb(-USD_DECIMALS)
_WIDE = Context(prec=200)


def exact_number(text: str) -> Any:
    """A decimal's text as a value every runtime writes as a JSON number of exactly that value: a float up to
    FLOAT_EXACT_DIGITS digits (written as its shortest text, the decimal itself; no arithmetic is done in float), else
    an orjson Fragment (never sent by the API; verbatim in the CLI, refused by the Builder's schema inference)."""
    if len(text.lstrip("-").replace(".", "").lstrip("0")) <= FLOAT_EXACT_DIGITS:
        return float(text)
    return orjson.Fragment(text.encode())


def cents_to_usd(cents: Any) -> Optional[str]:
    """The decimal text of `cents` / 100 at USD_DECIMALS places (exact for cents of up to 7 decimals, else rounded
    half to even); None if `cents` is not a finite number."""
    if type(cents) is str and _PLAIN_DECIMAL.fullmatch(cents):
        # The usual form, moved as text: "123.78912" -> "1.2378912" (Decimal measured 3x slower per record).
        sign, digits = ("-", cents[1:]) if cents[0] == "-" else ("", cents)
        whole, _, fraction = digits.partition(".")
        if len(fraction) <= USD_DECIMALS - 2:
            whole = whole.rjust(3, "0")
            return f"{sign}{whole[:-2].lstrip('0') or '0'}.{whole[-2:]}{fraction}"
    if isinstance(cents, bool) or not isinstance(cents, (str, int, float, Decimal)):
        return None
    try:
        amount = (cents if isinstance(cents, Decimal)
                  else Decimal(repr(cents) if isinstance(cents, float) else str(cents)))
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    usd = amount.scaleb(-2, _WIDE)
    if usd.as_tuple().exponent < -USD_DECIMALS:
        usd = _WIDE.quantize(usd, _USD_QUANTUM).normalize(_WIDE) or Decimal(0)
    return format(usd, "f")


def exact_json(value: Any, money_fields: Sequence[str] = ()) -> Any:
    """A value parsed with exact decimals as every runtime writes it: money as decimal text, other Decimals exact."""
    if isinstance(value, Decimal):
        return exact_number(format(value, "f"))
    if isinstance(value, list):
        return [exact_json(member, money_fields) for member in value]
    if not isinstance(value, dict):
        return value
    exact = {key: exact_json(member, money_fields) for key, member in value.items()}
    for money_field in money_fields:
        amount = value.get(money_field)
        if isinstance(amount, Decimal) or (isinstance(amount, int) and not isinstance(amount, bool)):
            exact[money_field] = format(amount, "f") if isinstance(amount, Decimal) else str(amount)
    return exact


CLAUDE_CODE_KEY = ("date", "actor_type", "actor_email_address", "actor_api_key_name", "terminal_type", "is_remote")


def claude_code_actor(report_record: Mapping[str, Any], day: Optional[str]) -> MutableMapping[str, Any]:
    """The fields that identify a Claude Code record, and its row_key."""
    actor = report_record.get("actor") or {}
    identity: MutableMapping[str, Any] = {
        "date": day,
        "actor_type": actor.get("type"),
        "actor_email_address": actor.get("email_address"),
        "actor_api_key_name": actor.get("api_key_name"),
        "terminal_type": report_record.get("terminal_type"),
        "is_remote": report_record.get("is_remote"),
    }
    identity["row_key"] = stable_key([identity[name] for name in CLAUDE_CODE_KEY])
    identity["organization_id"] = report_record.get("organization_id")
    return identity


def claude_code_usage_rows(actor: Mapping[str, Any], report_record: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """One claude_code_usage row: the actor, its metrics, and a column per tool and decision."""
    core = report_record.get("core_metrics") or {}
    lines = core.get("lines_of_code") or {}
    tools = report_record.get("tool_actions") or {}
    row: Dict[str, Any] = {
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
    return [row]


def claude_code_model_usage_rows(actor: Mapping[str, Any], report_record: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """A claude_code_model_usage row per model of a Claude Code record."""
    rows: List[Dict[str, Any]] = []
    for model_usage in report_record.get("model_breakdown") or ():
        tokens = model_usage.get("tokens") or {}
        cost = model_usage.get("estimated_cost") or {}
        model = model_usage.get("model")
        usd = cents_to_usd(cost.get("amount"))
        rows.append({
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
            "estimated_cost_usd": exact_number(usd) if usd is not None else None,
        })
    return rows


def utc_day(value: Any) -> Optional[str]:
    """A Claude Code `date` (sent as `2025-08-08` and as `2025-08-08T00:00:00Z`) as YYYY-MM-DD; None for null."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"date {value!r} is not text")
    if len(value) == 10 or value.endswith("T00:00:00Z"):
        return value[:10]
    return isoparse(value).astimezone(timezone.utc).date().isoformat()


def analytics_record(row: Mapping[str, Any], money_fields: Sequence[str] = ()) -> MutableMapping[str, Any]:
    """One analytics row as a flat record: metrics flattened without their object's name, each group member a column
    named after its dimension (group_<name> if the record has a field so named), a row_key of bucket and group."""
    record: MutableMapping[str, Any] = {"starting_at": row["starting_at"], "ending_at": row["ending_at"]}
    for name, value in row.items():
        if name in ("starting_at", "ending_at", "group"):
            continue
        if isinstance(value, dict):
            flatten(value, record)
        else:
            record[name] = value
    own = {*record, "row_key", *(f"{name}_usd" for name in money_fields)}
    group = row["group"]
    key: List[Any] = [row["starting_at"]]
    for dimension in sorted(group):
        value = group[dimension]
        record["group_" + dimension if dimension in own else dimension] = value
        if isinstance(value, dict):
            for column, member_value in flatten(value, {}, f"{dimension}_").items():
                if column not in group:
                    record["group_" + column if column in own else column] = member_value
        if value is not None:
            key.append([dimension, identity(value)])
    record["row_key"] = stable_key(key)
    return record


def identity(value: Any) -> Any:
    """What identifies a group value: an actor by its type and ids, as its name or email may change between reads."""
    if not isinstance(value, dict):
        return value
    ids = {name: value[name] for name in sorted(value) if name == "type" or name == "id" or name.endswith("_id")}
    return ids if len(ids) > ("type" in ids) else value


# -- 3. State ----------------------------------------------------------------------------------------------------------

BUCKET_UNITS = {"1d": "day", "1h": "hour"}
_SAVED_CURSOR = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2}))?$")


@dataclass
class CursorAtBucketStart(StateMigration):
    """Stands in for the cursor's own reading of state, which neither normalizes nor checks it: a saved cursor moves to
    the start of its UTC bucket, no later than the newest bucket; an unreadable one is refused in one sentence. The CDK
    would send `2025-03-09T05:00:00Z` as is (the daily reports refuse part days), and read nothing from a future one."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    cursor_field: str
    cursor_format: str
    # Interpolated, so it follows the clock: a saved cursor past it is read as it, with a warning.
    newest_bucket: Optional[str] = None
    bucket_width: str = "1d"
    # The field an earlier version saved the cursor in (0.0.x summaries: starting_date), read as cursor_field.
    former_cursor_field: Optional[str] = None
    # Not written in the manifest: the CDK's factory passes the stream, whose name the refusal says.
    declarative_stream: Any = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.bucket_width not in BUCKET_UNITS:
            raise ValueError(f"bucket_width must be one of {', '.join(BUCKET_UNITS)}, not {self.bucket_width!r}")
        self._unit = BUCKET_UNITS[self.bucket_width]
        self._newest_bucket = (InterpolatedString.create(self.newest_bucket, parameters=parameters)
                               if self.newest_bucket else None)

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return self.cursor_field in stream_state or "state_type" in stream_state or (
            self.former_cursor_field is not None and self.former_cursor_field in stream_state)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        stream = getattr(self.declarative_stream, "name", None) or "this stream"
        if self.cursor_field not in stream_state and self.former_cursor_field in stream_state:
            stream_state = {self.cursor_field: stream_state[self.former_cursor_field]}
        if "state_type" in stream_state:
            # The CDK's concurrent format (never written here), read as the CDK resumes from it: else the CDK saves
            # its first slice's start, however old; slices it cannot read are the value refused.
            value = slices = stream_state.get("slices")
            if isinstance(slices, list) and slices and all(isinstance(s, Mapping) for s in slices):
                first = min(slices, key=lambda date_range: str(date_range.get("start")))
                value = first.get("most_recent_cursor_value") or first.get("end")
            stream_state = {}
        else:
            value = stream_state[self.cursor_field]
        bucket = saved_cursor_bucket(value, self.bucket_width)
        if bucket is None:
            example = datetime(2025, 1, 31, tzinfo=timezone.utc).strftime(self.cursor_format)
            raise config_error(f"The saved state of {stream} has {self.cursor_field} {value!r}, which is not a UTC "
                               f"date like {example}: reset {stream} (or drop it from the state) to read it again "
                               "from start_date.")
        newest = (saved_cursor_bucket(self._newest_bucket.eval(self.config), self.bucket_width)
                  if self._newest_bucket else None)
        if newest is not None and bucket > newest:
            logger.warning(
                f"The saved state of {stream} has {self.cursor_field} {value!r}, which is past the newest {self._unit} "
                f"there is to read: this sync reads it as {newest.strftime(self.cursor_format)}, with the lookback "
                f"before it. If {self._unit}s before that are missing from the destination, reset the stream to read "
                "them again.")
            bucket = newest
        return {**stream_state, self.cursor_field: bucket.strftime(self.cursor_format)}


@dataclass
class StartWithoutState(StateMigration):
    """Stands in for a cursor start_datetime that follows the clock, which would also cut off an older saved state
    (messages_usage_hourly's "30 days before now"): as a state, it applies only to a stream without one. The cursor
    takes its lookback off a state, so `start` gets it added."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    cursor_field: str
    cursor_format: str
    # Interpolated; an RFC 3339 time, or empty for no default (the cursor's own start applies).
    start: str
    # Interpolated; the cursor's lookback_window, an ISO 8601 duration.
    lookback: str = "PT0S"
    declarative_stream: Any = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._start = InterpolatedString.create(self.start, parameters=parameters)
        self._lookback = InterpolatedString.create(self.lookback, parameters=parameters)

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return not stream_state

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        start = self._start.eval(self.config)
        if not start:
            return stream_state
        lookback = parse_duration(self._lookback.eval(self.config) or "PT0S")
        return {self.cursor_field: (isoparse(start) + lookback).strftime(self.cursor_format)}


def saved_cursor_bucket(value: Any, bucket_width: str = "1d") -> Optional[datetime]:
    """The start of the UTC bucket a saved date or RFC 3339 date-time falls in; None if it is neither."""
    if not isinstance(value, str) or not _SAVED_CURSOR.match(value):
        return None
    try:
        moment = isoparse(value)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    if bucket_width == "1h":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class CheckpointEachWindow(Retriever):
    """Stands in for the CDK's checkpoint of the newest record, which never moves past a window without records: the
    one component that knows a window was read whole, it has the cursor observe its last bucket, so days without usage
    are not read again. It also skips a stream whose API the key cannot read; once the API rejected the key
    (stop_sync), reads no further window of a stream that failed; and reads or claims no day after the newest the API
    has finished (AdminApiErrorHandler.latest_day)."""

    retriever: Retriever
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    # The start of the window's last bucket, in the cursor's format: the state a window read whole may claim.
    last_bucket_read: str
    # Neither is written in the manifest: the CDK's factory passes the stream's ConcurrentCursor and name.
    cursor: Any = None
    name: str = ""
    reads_api: str = "admin"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._last_bucket_read = InterpolatedString.create(self.last_bucket_read, parameters=parameters)
        cursor_field = getattr(self.cursor, "cursor_field", None)
        self._cursor_field = getattr(cursor_field, "cursor_field_key", None)
        self._skipped: Optional[bool] = None
        self._failed = False

    def read_records(self, records_schema: Mapping[str, Any],
                     stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        if self._failed and stopped_by(self.config):
            return  # one error per stream, not per window; nothing claimed, so the state stays
        try:
            if self.is_skipped() or self.after_the_newest_day(stream_slice):
                return  # no request, and no window claimed as read: the state stays
            yield from self.retriever.read_records(records_schema, stream_slice)
        except Exception:
            self._failed = True
            raise
        if stream_slice is None or not self._cursor_field or not hasattr(self.cursor, "observe"):
            return
        last_bucket = self.last_bucket_to_checkpoint(stream_slice)
        # Observed like a record, so the CDK checkpoints it as it does real records.
        if last_bucket is not None and not self.after_the_newest_day(stream_slice):
            self.cursor.observe(Record(data={self._cursor_field: last_bucket}, stream_name=self.name,
                                       associated_slice=stream_slice))

    def is_skipped(self) -> bool:
        """Whether this key cannot read the stream's API (decided once, with one warning)."""
        if self._skipped is None:
            requester = self.retriever.requester  # type: ignore[attr-defined]
            self._skipped = skip_unless_key_reads(self.config, self.reads_api, self.name or "this stream", requester)
        return self._skipped

    def after_the_newest_day(self, stream_slice: Optional[StreamSlice]) -> bool:
        """Whether the window starts after the newest day the API has finished, as a refusal named it this sync."""
        handler = getattr(getattr(self.retriever, "requester", None), "error_handler", None)
        newest = getattr(handler, "latest_day", None)
        return newest is not None and stream_slice is not None and str(stream_slice.get("start_time")) > newest

    def last_bucket_to_checkpoint(self, stream_slice: StreamSlice) -> Optional[str]:
        """The start of the last bucket a window read whole may claim as read; None claims nothing."""
        return self._last_bucket_read.eval(self.config, stream_slice=stream_slice)


@dataclass
class AnalyticsWindows(CheckpointEachWindow):
    """CheckpointEachWindow for the analytics streams, as no declarative component reads a watermark from the response:
    a window is checkpointed up to its last bucket that ended by data_refreshed_at (ShapedRecords holds back later
    rows); one info line says where the stream starts when start_date is older than the API serves."""

    # Interpolated: the latest of 2026-01-01 and the first midnight within the last 365 days.
    earliest_bucket: str = ""
    # Interpolated: the newest bucket this sync reads, for the warning of days held back.
    newest_bucket: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._earliest_bucket = InterpolatedString.create(self.earliest_bucket, parameters=parameters)
        self._newest_bucket = InterpolatedString.create(self.newest_bucket, parameters=parameters)
        self._start_said = self._held_back_said = False
        # The reset is the manifest's (RESET_PAGINATION); its bound and sentences are WindowRestarts'.
        if hasattr(self.retriever, "pagination_tracker_factory"):
            setattr(self.retriever, "pagination_tracker_factory", lambda: WindowRestarts(self.name or "this stream"))

    def is_skipped(self) -> bool:
        skipped = super().is_skipped()
        if not skipped and not self._start_said:
            self._start_said = True
            earliest, start_date = self._earliest_bucket.eval(self.config), self.config.get("start_date")
            if earliest and isinstance(start_date, str) and start_date[:10] < earliest[:10]:
                logger.info(f"{self.name} starts at {earliest[:10]} at the earliest, not at start_date {start_date}: "
                            "the Usage and Cost Analytics API serves nothing before 2026-01-01 or older than 365 "
                            "days. messages_usage and cost_report carry the older history.")
        return skipped

    def last_bucket_to_checkpoint(self, stream_slice: StreamSlice) -> Optional[str]:
        last_bucket = super().last_bucket_to_checkpoint(stream_slice)
        extractor = getattr(getattr(self.retriever, "record_selector", None), "extractor", None)
        window_start = utc_moment(stream_slice["start_time"])
        refreshed_at = extractor.data_refreshed_at(window_start) if hasattr(extractor, "data_refreshed_at") else None
        if refreshed_at is None or last_bucket is None:
            return last_bucket
        # The last bucket that ended by the refresh starts a day before the midnight at or before it.
        settled = (refreshed_at.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
                   - timedelta(days=1))
        if settled.strftime("%Y-%m-%dT%H:%M:%SZ") < last_bucket and not self._held_back_said:
            # Said once per sync: windows are read in order, so every day from the first held back to the newest is.
            self._held_back_said = True
            first_held = max(settled + timedelta(days=1), window_start)
            newest = max(utc_moment(self._newest_bucket.eval(self.config) or last_bucket), utc_moment(last_bucket))
            days = (newest - first_held).days + 1
            refreshed = refreshed_at.astimezone(timezone.utc)
            logger.warning(f"{self.name} holds back {days} day{'s' if days != 1 else ''} ({first_held:%Y-%m-%d} to "
                           f"{newest:%Y-%m-%d}): the Usage and Cost Analytics API says its data was last refreshed at "
                           f"{refreshed:%Y-%m-%dT%H:%M:%SZ} (data_refreshed_at), so those days may still change. "
                           "Their rows are not emitted and the state stays before them; a later sync reads them once "
                           "the API has refreshed its data.")
        if settled < window_start:
            return None
        return min(last_bucket, settled.strftime("%Y-%m-%dT%H:%M:%SZ"))


# -- 4. Config ---------------------------------------------------------------------------------------------------------

# -- What a key reads --------------------------------------------------------------------------------------------------
# Documented: an Admin key (sk-ant-admin01-...) reads both APIs; a Claude Enterprise Analytics key (sk-ant-api01-...,
# read:analytics) only the Usage and Cost Analytics API; a personal or service-account key the Admin API; a workspace
# key neither. Those share the sk-ant-api prefix, so such a key is asked, once per sync, before a stream of an API it
# may not read sends its first request. The key kind decides what a sync skips, not the catalog (docs/claude.md).

ADMIN_API, ANALYTICS_API, ENGAGEMENT_API = "admin", "analytics", "engagement"
# Per API: its name in a sentence, and the path, parameters and headers of one small request (the reports' of the
# last whole day; the engagement summary of the API's first day, which it always has).
KEY_PROBES = {
    ADMIN_API: ("the Admin API", "/v1/organizations/usage_report/messages", {"bucket_width": "1d"}, {}),
    ANALYTICS_API: ("the Usage and Cost Analytics API", "/v1/organizations/analytics/usage",
                    {"time_bucket_width": "1d"}, {"anthropic-beta": "analytics-usage-cost-2026-08-24"}),
    ENGAGEMENT_API: ("the Claude Enterprise Analytics API", "/v1/organizations/analytics/summaries",
                     {"starting_date": "2026-01-01"}, {}),
}
ANALYTICS_EARLIEST_BUCKET = "2026-01-01T00:00:00Z"
# A probe that gets no answer says nothing of the key (the stream's own requests then say what went wrong), so it
# retries twice, and the CDK's error line when its retries run out is not logged.
KEY_PROBE_LOGGER = logging.getLogger("airbyte.key_probe")
KEY_PROBE_LOGGER.setLevel(logging.CRITICAL)
NO_STREAM_READABLE = (
    "This key can read none of the streams: Anthropic refused it on the Admin API and on both Analytics APIs "
    "({answers}). Set admin_api_key to an Admin key (sk-ant-admin01-...) from Claude Console > Settings "
    "> Admin keys, or, for a Claude Enterprise organization, to a key with the read:analytics scope (sk-ant-api01-...) "
    "from claude.ai > Organization settings > API.")
# (organization_key, api) -> whether the key reads the API (None: the API said neither), and what the API said.
_KEY_READS: Dict[Tuple[str, str], Tuple[Optional[bool], str]] = {}
# (organization_key, stream) of each stream skipped so far: a stream read as another's parent is skipped once too.
_SKIPS_SAID: Set[Tuple[str, str]] = set()
_KEY_READS_LOCK = threading.Lock()


def key_reads(config: Mapping[str, Any], api: str, requester: Optional[Requester] = None) -> Optional[bool]:
    """Whether this config's key reads `api`; None while the API has said neither, or without a requester to ask."""
    key = config.get("admin_api_key")
    if isinstance(key, str) and key.startswith("sk-ant-admin"):
        return api in (ADMIN_API, ANALYTICS_API)  # documented: nothing to ask
    asked = (organization_key(config), api)
    with _KEY_READS_LOCK:
        if asked not in _KEY_READS and requester is not None:
            _KEY_READS[asked] = ask_the_api(config, api, getattr(requester, "requester", requester))
        return _KEY_READS.get(asked, (None, ""))[0]


def ask_the_api(config: Mapping[str, Any], api: str, requester: Any) -> Tuple[Optional[bool], str]:
    """Whether `api` reads this key, and what it said: one request with the stream's authenticator, budget, timeouts."""
    name, path, params, headers = KEY_PROBES[api]
    now = datetime.now(timezone.utc)
    starting_at = f"{now - timedelta(days=1):%Y-%m-%dT00:00:00Z}"
    if api == ANALYTICS_API:
        starting_at = max(starting_at, ANALYTICS_EARLIEST_BUCKET)
    if api != ENGAGEMENT_API:
        params = {**params, "starting_at": starting_at, "ending_at": f"{now:%Y-%m-%dT00:00:00Z}", "limit": "1"}
    answers = HttpResponseFilter(config=config, parameters={}, action=ResponseAction.IGNORE,
                                 http_codes=set(range(400, 500)) - {429})
    waits = [WaitTimeFromHeaderBackoffStrategy(header="retry-after", config=config, parameters={}),
             ExponentialBackoffStrategy(factor=1, config=config, parameters={})]
    client = HttpClient(name=f"{api}_key_probe", logger=KEY_PROBE_LOGGER, backoff_strategy=waits,
                        error_handler=DefaultErrorHandler(config=config, parameters={}, response_filters=[answers],
                                                          max_retries=2),
                        authenticator=requester.get_authenticator(), api_budget=getattr(requester, "api_budget", None),
                        request_timeout=(requester.connect_timeout_in_seconds, requester.read_timeout_in_seconds))
    try:
        _, response = client.send_request(
            "GET", f"{(config.get('api_url') or DEFAULT_API_URL).rstrip('/')}{path}", request_kwargs={},
            headers={**requester.get_request_headers(), **headers},
            params=params)
    except AirbyteTracedException as error:
        if error.failure_type == FailureType.config_error:
            raise  # not the API's: the sync was stopped, or the key refused before any request
        return None, f"{name}: no answer"
    message = api_error_message(response)  # the answers are joined with semicolons: no full stop
    said = f"{name} answered HTTP {response.status_code}" + (f": {message.rstrip('.')}" if message else "")
    return (True if response.ok else False if response.status_code in (401, 403) else None), said


def forget_key_access() -> None:
    """For tests, which run many syncs in one process: forgets what keys read, and stopped syncs."""
    with _KEY_READS_LOCK:
        _KEY_READS.clear()
        _SKIPS_SAID.clear()
        _STOPPED_SYNCS.clear()


def skip_unless_key_reads(config: Mapping[str, Any], api: str, stream: str, requester: Requester) -> bool:
    """Whether a stream must be skipped as the key cannot read its API (one warning); ends the sync if it reads none."""
    if key_reads(config, api, requester) is not False:
        return False
    if all(key_reads(config, other, requester) is False for other in KEY_PROBES):
        refusal = NO_STREAM_READABLE.format(answers="; ".join(_KEY_READS[(organization_key(config), other)][1]
                                                               for other in KEY_PROBES))
        raise stopped_sync(refusal, first=stop_sync(config, refusal))
    # The engagement streams are skipped together, in one warning: every Admin key skips them all.
    skip = (organization_key(config), api if api == ENGAGEMENT_API else stream)
    with _KEY_READS_LOCK:
        if skip in _SKIPS_SAID:
            return True
        _SKIPS_SAID.add(skip)
    if api == ADMIN_API:
        logger.warning(f"Skipping {stream}: this key reads only the Analytics APIs (an Analytics API key of a Claude "
                       "Enterprise organization), not the Admin API. usage_analytics, cost_analytics and the "
                       f"engagement streams are read; deselect {stream} to stop this warning.")
    elif api == ENGAGEMENT_API:
        logger.warning(f"Skipping {stream} and the other Claude Enterprise engagement streams: this key may not read "
                       "the Claude Enterprise Analytics API, which only a Claude Enterprise organization's Analytics "
                       "API key (read:analytics) reads, not an Admin key. The other streams are read; deselect the "
                       "engagement streams to stop this warning.")
    else:
        logger.warning(f"Skipping {stream}: this key may not read the Usage and Cost Analytics API (beta). The other "
                       f"streams are read; deselect {stream} to stop this warning.")
    return True


def what_the_key_reads(config: Mapping[str, Any], streams: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """For check: which streams a sync skips for this key, as the API has answered so far; None if none."""
    apis = {stream["name"]: stream["retriever"].get("reads_api", ADMIN_API) for stream in streams}
    skipped = [name for name, api in apis.items() if key_reads(config, api) is False]
    if not skipped:
        return None
    return (f"This key reads {', '.join(name for name in apis if name not in skipped)}; a sync skips "
            f"{', '.join(skipped)}, with a warning each (an Admin key does not read the Claude Enterprise engagement "
            "streams, an Analytics API key reads only the analytics streams).")


def nothing_to_read_yet(config: Mapping[str, Any], now: datetime) -> Optional[str]:
    """For check: why a sync reads nothing yet, while no whole UTC day from start_date has ended; else None."""
    first_day = first_whole_utc_day(parse_config_datetime(config["start_date"], "start_date"))
    if first_day + timedelta(days=1) <= now:
        return None
    return (f"The Admin API key works, but there is nothing to read yet: the first whole UTC day from start_date, "
            f"{first_day:%Y-%m-%d}, ends at {first_day + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}, and until then a "
            "sync reads no daily usage or cost (messages_usage_hourly reads each hour once it has ended, and the "
            "Claude Code streams read today as far as the API has it).")


# -- The key in every form it could be printed in ----------------------------------------------------------------------
# The CDK masks the key where it appears verbatim; an error can quote it escaped (repr, JSON) or split where it holds
# a character no key has.

PRINTABLE_ASCII = re.compile(r"[!-~]+")


def mask_key(key: Any) -> None:
    """Masks every form of the key from here on (the CDK's entrypoint resets its secrets after the source is built)."""
    if isinstance(key, str) and key:
        forms = {key, repr(key)[1:-1], json.dumps(key)[1:-1], key.encode("unicode_escape").decode("ascii"),
                 quote(key, safe="")}
        # Runs of 8 or more printable characters: shorter ones are not secret alone (the public prefix has 15).
        forms.update(run for run in PRINTABLE_ASCII.findall(key) if len(run) >= 8)
        update_secrets(sorted(forms, key=len, reverse=True))  # longest first: a whole key before a part of it


def describe_character(character: str) -> str:
    """A character no key has, named without quoting the key: `a line break`, `U+200B (ZERO WIDTH SPACE)`."""
    if character in "\r\n":
        return "a line break"
    if character.isspace():
        return "a space" if character == " " else f"a space (U+{ord(character):04X})"
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X}" + (f" ({name})" if name else "")


@dataclass
class AdminApiKeyRule(ValidationStrategy):
    """Stands in for a `pattern` in the spec, whose error would quote the key without saying what is wrong with it.
    No prefix is refused: an Enterprise Analytics key shares the sk-ant-api prefix, so the API is asked (key_reads)."""

    def validate(self, key: Any) -> None:
        mask_key(key)
        problem = key_problem(key)
        if problem:
            raise config_error(problem)


def key_problem(key: Any) -> Optional[str]:
    """What keeps admin_api_key from being sent, said before `requests` refuses it with the key escaped in its error."""
    if not isinstance(key, str) or not key.strip():
        return ("admin_api_key is missing: create an Admin key (sk-ant-admin...) in the Claude Console under Settings "
                "> Admin keys (https://console.anthropic.com/settings/admin-keys) and paste it in (a Claude Enterprise "
                "organization uses its Analytics API key with the read:analytics scope).")
    if key != key.strip():
        return "admin_api_key has spaces or line breaks around it: paste the key again without them."
    if PRINTABLE_ASCII.fullmatch(key):
        return None
    position, character = next((position, character) for position, character in enumerate(key, 1)
                               if not PRINTABLE_ASCII.fullmatch(character))
    return (f"admin_api_key has {describe_character(character)} at position {position}, a character no Anthropic key "
            "has (chat tools and web pages insert invisible ones, and a wrapped paste adds a line break): paste the "
            "key again as plain text on one line, or copy it anew from where it was created.")


# -- Config rules ------------------------------------------------------------------------------------------------------
# The manifest runs the one-field rules (DpathValidators); whole_config_rules() needs several fields, or an absent one.

DEFAULT_API_URL = "https://api.anthropic.com"
# The API holds nothing older, and the cursors' arithmetic must stay within datetime's range.
EARLIEST_CONFIG_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST_CONFIG_DATE = datetime(2100, 1, 1, tzinfo=timezone.utc)


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, failure_type=FailureType.config_error)


@dataclass
class ConfigFieldRule(ValidationStrategy):
    """Stands in for the spec's JSON schema check alone, whose messages ("32 is greater than the maximum of 31") name
    neither the field nor the fix: words the field's schema (`properties`), and adds a real calendar day, a start_date
    whose first whole UTC day has begun, and an api_url that is https unless local and holds no password."""

    field: str
    properties: Mapping[str, Any]
    advice: str = ""  # how to fix a number that has no default to suggest
    starts_reading: bool = False
    url: bool = False

    def validate(self, value: Any) -> None:
        schema = self.properties[self.field]
        if value is None or (value == "" and schema["type"] == "string"):
            return
        fails = {error.validator for error in Draft7Validator(schema).iter_errors(value)}  # type, maximum, enum...
        if schema["type"] == "integer" and (fails or isinstance(value, float)):  # JSON schema takes 3.0 for 3
            unit = re.search(r"\((\w+)\)$", schema["title"])  # what the number counts: "Lookback Window (days)"
            advice = self.advice or f"the default, {schema.get('default')}, suits most organizations."
            raise config_error(f"{self.field} must be a whole number{f' of {unit[1]}' if unit else ''} from "
                               f"{schema['minimum']} to {schema['maximum']}, not {value!r}: {advice}")
        if schema["type"] == "array":
            self.validate_names(value, fails, schema["items"]["enum"])
        elif self.url:
            self.validate_url(value, schema["default"])
        elif "pattern" in schema:  # the spec's dates
            if fails:
                raise config_error(f"{self.field} {value!r} is not a date: use a UTC date like 2025-01-01 "
                                   "or an RFC 3339 date-time like 2025-01-01T00:00:00Z.")
            moment = parse_config_datetime(value, self.field)
            if self.starts_reading:
                self.validate_start(value, moment)

    def validate_names(self, group_by: Any, fails: Set[str], dimensions: List[str]) -> None:
        if "type" in fails:
            raise config_error(
                f"{self.field} must be a list of dimension names, not {group_by!r}: for example "
                '["api_key_id", "actor", "workspace_id", "model"], or leave it empty for that grouping.')
        if "enum" in fails:  # said before a sync, which the API's refusal would end mid-read
            unknown = ", ".join(repr(value) for value in group_by if value not in dimensions)
            raise config_error(f"{self.field} has {unknown}, which the Usage and Cost Analytics API cannot group by: "
                               f"use some of {', '.join(dimensions)}.")
        if "uniqueItems" in fails:
            raise config_error(f"{self.field} names a dimension twice: list each dimension once.")

    def validate_start(self, value: str, moment: datetime) -> None:
        now = datetime.now(timezone.utc)
        if moment > now:
            raise config_error(
                f"{self.field} {value} is in the future, so there is nothing to read yet: set it to a past UTC date, "
                "for example the day your organization started using the API.")
        first_day = first_whole_utc_day(moment)
        if first_day > now:
            raise config_error(
                f"{self.field} {value} leaves no whole UTC day to read yet: reading starts at the first midnight UTC "
                f"at or after it ({first_day:%Y-%m-%dT%H:%M:%SZ}), so set {self.field} to a date.")

    def validate_url(self, api_url: Any, default: str) -> None:
        if isinstance(api_url, str) and "@" in api_url:
            # Not echoed: what comes before the @ is a user name and password (or the key) pasted into the URL.
            raise config_error(f"{self.field} has a user name or password in it (the part before an @), which the "
                               "connector never sends: remove it, and give the proxy's https:// address alone.")
        if isinstance(api_url, str) and api_url != api_url.strip():
            raise config_error(f"{self.field} {api_url!r} has spaces or line breaks around it: remove them.")
        parts = urlsplit(api_url) if isinstance(api_url, str) else None
        if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
            raise config_error(f"{self.field} {api_url!r} is not a URL: leave it empty to use {default}, "
                               "or give the https:// address of your proxy.")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise config_error(f"{self.field} {api_url!r} is not https: the Admin key must only travel encrypted, "
                               "so use an https:// address (plain http is accepted only for localhost).")


def is_loopback(hostname: str) -> bool:
    with suppress(ValueError):
        return hostname == "localhost" or ipaddress.ip_address(hostname).is_loopback
    return False


def whole_config_rules(config: Mapping[str, Any]) -> None:
    """The rules a DpathValidator cannot run: required fields present (not every runtime checks), dates that agree."""
    AdminApiKeyRule().validate(config.get("admin_api_key"))
    if config.get("start_date") in (None, ""):
        raise config_error("start_date is missing: set it to the first UTC day to replicate, for example 2025-01-01.")
    try:
        start, end, hourly_start = (parse_config_datetime(config.get(name), name)
                                    for name in ("start_date", "end_date", "hourly_start_date"))
    except AirbyteTracedException:
        return
    first_day = first_whole_utc_day(start)
    if end is not None and end <= first_day:
        raise config_error(f"end_date {config['end_date']} is not after start_date {config['start_date']}: "
                           "set end_date later than start_date, or leave it empty to read up to now.")
    if end is not None and end < first_day + timedelta(days=1):
        raise config_error(
            f"end_date {config['end_date']} leaves no whole UTC day after start_date {config['start_date']}, so "
            f"there would be nothing to read: set end_date to {first_day + timedelta(days=1):%Y-%m-%d} or later.")
    if hourly_start is None:
        return
    value = config["hourly_start_date"]
    if hourly_start < start:
        raise config_error(
            f"hourly_start_date {value} is before start_date {config['start_date']}, and nothing before start_date is "
            "read: set hourly_start_date on or after start_date, or leave it empty to read the last 30 days.")
    first_hour = hourly_start.replace(minute=0, second=0, microsecond=0)  # where messages_usage_hourly starts
    if first_hour != hourly_start:
        first_hour += timedelta(hours=1)
    if first_hour > datetime.now(timezone.utc):
        raise config_error(
            f"hourly_start_date {value} leaves no whole UTC hour to read yet (reading starts at "
            f"{first_hour:%Y-%m-%dT%H:%M:%SZ}): set it to a past hour, or leave it empty to read the last 30 days.")
    if end is not None and end < first_hour + timedelta(hours=1):
        raise config_error(
            f"hourly_start_date {value} leaves no whole UTC hour before end_date {config['end_date']}, so "
            "messages_usage_hourly would read nothing: set hourly_start_date earlier, or leave it empty.")


def parse_config_datetime(value: Any, key: str) -> Optional[datetime]:
    """A config date (midnight UTC) or date-time (UTC if it has no offset) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    try:
        parsed = isoparse(value)
        parsed = (parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed).astimezone(timezone.utc)
    except (TypeError, ValueError, OverflowError):
        raise config_error(f"{key} {value!r} is not a real calendar date: check the month and day, "
                           "for example 2025-01-31.") from None
    if parsed < EARLIEST_CONFIG_DATE:
        # The manifest writes a date with strftime, which gives year 1 as "1", a date its own parser refuses.
        raise config_error(f"{key} {value} is before {EARLIEST_CONFIG_DATE:%Y-%m-%d}, long before the Anthropic API "
                           "existed: set it to the first UTC day your organization used the API, for example "
                           "2025-01-01.")
    if parsed > LATEST_CONFIG_DATE:
        raise config_error(f"{key} {value} is after {LATEST_CONFIG_DATE:%Y-%m-%d}, later than any data can be: "
                           "set it to a past UTC date (an empty end_date reads up to now).")
    return parsed


def first_whole_utc_day(moment: datetime) -> datetime:
    """The first midnight UTC at or after `moment`: where reading starts, so no data before start_date is asked for."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + timedelta(days=1)
