"""Errors the knowledge API turns into JSON 4xx answers (messages are user-facing Chinese)."""


class KbError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(KbError):
    status, code = 400, "invalid_input"


class Forbidden(KbError):
    status, code = 403, "forbidden"


class NotFound(KbError):
    status, code = 404, "not_found"


class Conflict(KbError):
    status, code = 409, "conflict"

