"""The one exception services raise for a request they refuse; views and the API render it."""


class OnrampError(Exception):
    """A refusal with a stable ``code``, a ``message`` safe to show, and an HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
