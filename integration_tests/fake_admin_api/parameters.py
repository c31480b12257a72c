"""Query-parameter rules shared by every endpoint of the stand-in, stricter than the docs where they are silent:
an undocumented parameter (e.g. `group_by` without brackets) or a repeated scalar one is refused."""

from typing import Dict, List, Optional

from .errors import ApiError


def check_names(query: Dict[str, List[str]], allowed: set) -> None:
    for name, values in query.items():
        if name not in allowed:
            raise ApiError(400, "invalid_request_error", f"{name}: Extra inputs are not permitted")
        if not name.endswith("[]") and len(values) > 1:
            raise ApiError(400, "invalid_request_error", f"{name}: expected a single value")


def single(query: Dict[str, List[str]], name: str, default: Optional[str]) -> Optional[str]:
    return query[name][0] if name in query else default


def limit(query: Dict[str, List[str]], default: int, maximum: int, context: str = "") -> int:
    """`limit`, from 1 to maximum; context ends the out-of-range message (e.g. " for bucket_width 1d")."""
    text = single(query, "limit", None)
    try:
        value = default if text is None else int(text)
    except ValueError:
        raise ApiError(400, "invalid_request_error", "limit: Input should be a valid integer") from None
    if not 1 <= value <= maximum:
        raise ApiError(400, "invalid_request_error", f"limit: Input should be between 1 and {maximum}{context}")
    return value
