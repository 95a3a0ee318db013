"""The one error tree every layer raises; transports map it to their protocol once (api/errors.py).

PostroomError
 ├─ InvalidInput        400 validation_error (carries field errors)
 ├─ Unauthorized        401 missing_authorization | invalid_token_type | unknown_api_key | unauthorized
 ├─ Forbidden           403 missing_permission | permission_escalation | unrestricted_key_required | forbidden
 │   └─ Refused         inbound mail refused at the end of DATA (SMTP 550 5.7.1, or 451 4.7.1 when temporary)
 ├─ NotFound            404 not_found
 ├─ Conflict            409 already_exists | cannot_delete | conflict
 ├─ TooLarge            413 payload_too_large
 ├─ Unprocessable       422 unprocessable
 ├─ RateLimited         429 rate_limit_exceeded (carries retry_after seconds)
 └─ ServiceUnavailable  503 service_unavailable

TemporaryLookupError stands apart: DNS did not answer. Adapters raise it and services and workers decide what a
lookup that may work later means for them (a delivery retried, a verdict of temperror).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str


class PostroomError(Exception):
    code: str = "internal_error"
    default_message: str = "Internal error"

    def __init__(self, message: str | None = None, *, code: str | None = None, fix: str | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        self.fix = fix
        super().__init__(self.message)


class InvalidInput(PostroomError):
    code = "validation_error"
    default_message = "Invalid request"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        if errors is None:
            errors = [FieldError(field or "", message or self.default_message)]
        self.errors = errors
        super().__init__(message, fix=fix)


class Unauthorized(PostroomError):
    code = "unauthorized"
    default_message = "Unauthorized"


class Forbidden(PostroomError):
    code = "forbidden"
    default_message = "Forbidden"


class Refused(Forbidden):
    code = "message_refused"
    default_message = "Message refused"

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        self.temporary = temporary
        super().__init__(message, code=self.code)


class NotFound(PostroomError):
    code = "not_found"
    default_message = "Not found"


class Conflict(PostroomError):
    code = "conflict"
    default_message = "Conflict"


class TooLarge(PostroomError):
    code = "payload_too_large"
    default_message = "Request body too large"


class Unprocessable(PostroomError):
    code = "unprocessable"
    default_message = "Unprocessable request"


class RateLimited(PostroomError):
    code = "rate_limit_exceeded"
    default_message = "Rate limit exceeded"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(message, fix=f"Retry after {self.retry_after} second(s).")


class ServiceUnavailable(PostroomError):
    code = "service_unavailable"
    default_message = "Service unavailable"


class TemporaryLookupError(Exception):
    """DNS did not answer (timeout, SERVFAIL); asking again later may work."""
