"""The Admin API's error, raised by any handler and written in the API's error shape by the server."""


class ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message
