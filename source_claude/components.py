#
# Custom components for source-claude. Only what the manifest cannot express lives here.
#
from dataclasses import InitVar, dataclass, field
from decimal import Decimal, InvalidOperation
from hashlib import md5
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

# Nested objects whose members keep their own names when flattened: `server_tool_use.web_search_requests`
# becomes `web_search_requests`. Every other nested object is flattened with its name as a prefix, so
# `cache_creation.ephemeral_5m_input_tokens` becomes `cache_creation_ephemeral_5m_input_tokens`.
UNPREFIXED_OBJECTS = frozenset({"server_tool_use"})


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
        for bucket in report_buckets(response):
            starting_at, ending_at = bucket["starting_at"], bucket["ending_at"]
            for result_row in bucket.get("results") or ():
                record = flatten_result_row(result_row, starting_at, ending_at)
                record["row_key"] = row_key(record, self._key_dimensions)
                if self.amount_cents_field:
                    add_amount_usd(record, self.amount_cents_field)
                yield record


def report_buckets(response: requests.Response) -> List[Mapping[str, Any]]:
    """The page's buckets; a body that is not a report page fails loudly instead of reading as empty."""
    try:
        body = orjson.loads(response.content)
        buckets = body["data"]
        if not isinstance(buckets, list):
            raise TypeError("`data` is not a list")
    except (orjson.JSONDecodeError, KeyError, TypeError) as error:
        raise AirbyteTracedException(
            message=(
                "The Anthropic Admin API returned a response that is not a report page "
                f"(HTTP {response.status_code}). Retry the sync; if it persists, check api_url points at the Admin API."
            ),
            internal_message=f"Unreadable report page from {response.url}: {error}",
            failure_type=FailureType.transient_error,
        ) from None
    return buckets


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
    """The decimal text of `cents` / 100, computed by moving the decimal point; None if not a finite number."""
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
