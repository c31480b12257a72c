"""The Admin API's error, raised by any handler and written in the API's error shape by the server."""

from typing import Mapping, Optional


class ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str, headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message
        # Response headers this error carries besides the ones every error has (e.g. a 429's rate-limit headers).
        self.headers = dict(headers or {})


def should_retry(status: int) -> bool:
    """The `x-should-retry` every error response carries: true for 408, 409, 429 and 5xx (529 too), else false."""
    return status in (408, 409, 429) or status >= 500
