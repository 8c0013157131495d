"""Error values and the HTTP response type shared by the sandbox modules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

STATUS_TEXT = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


@dataclass
class Response:
    """One HTTP answer; `drop` closes the connection without writing anything."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    data: Any = None  # the JSON value behind `body`, for partial responses

    @classmethod
    def json(cls, data: Any, status: int = 200, pretty: bool = True) -> Response:
        text = json.dumps(data, indent=2 if pretty else None, ensure_ascii=False)
        return cls(status=status, body=(text + "\n").encode("utf-8"), data=data)

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status=status, body=b"", content_type="")

    @classmethod
    def dropped(cls) -> Response:
        return cls(status=0, drop=True)


class ApiError(Exception):
    """A Google API error, rendered as Google's JSON error envelope."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        *,
        domain: str = "global",
        status: str | None = None,
        location: str | None = None,
        location_type: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        error_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.status = status or STATUS_TEXT.get(code, "UNKNOWN")
        self.location = location
        self.location_type = location_type
        self.details = details
        self.headers = headers or {}
        self.error_message = error_message

    def body(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "message": self.error_message or self.message,
            "domain": self.domain,
            "reason": self.reason,
        }
        if self.location:
            item["location"] = self.location
            item["locationType"] = self.location_type or "parameter"
        err: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "errors": [item],
            "status": self.status,
        }
        if self.details:
            err["details"] = self.details
        return {"error": err}

    def response(self) -> Response:
        resp = Response.json(self.body(), status=self.code)
        resp.headers.update(self.headers)
        return resp


def not_found(message: str = "Requested entity was not found.") -> ApiError:
    return ApiError(404, message, "notFound")


def bad_request(message: str, reason: str = "badRequest", **kw: Any) -> ApiError:
    return ApiError(400, message, reason, **kw)


# The 401 and 403 answers of an API call whose credentials fall short.
_REALM = 'Bearer realm="https://accounts.google.com/"'
DOCS = "See https://developers.google.com/identity/sign-in/web/devconsole-project."


def unauthenticated(invalid: bool) -> ApiError:
    if invalid:
        return ApiError(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential. " + DOCS,
            "authError",
            location="Authorization",
            location_type="header",
            error_message="Invalid Credentials",
            headers={"WWW-Authenticate": _REALM + ', error="invalid_token"'},
        )
    return ApiError(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential. " + DOCS,
        "required",
        location="Authorization",
        location_type="header",
        error_message="Login Required.",
        headers={"WWW-Authenticate": _REALM},
    )


def insufficient_scope(method_id: str, api: str, scopes: tuple[str, ...]) -> ApiError:
    service = "calendar-json.googleapis.com" if api == "calendar" else "gmail.googleapis.com"
    return ApiError(
        403,
        "Request had insufficient authentication scopes.",
        "insufficientPermissions",
        error_message="Insufficient Permission",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": {"service": service, "method": method_id},
            }
        ],
        headers={
            "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
            f'error="insufficient_scope", scope="{" ".join(scopes)}"'
        },
    )


class OAuthError(Exception):
    """An error of Google's OAuth endpoints: `{"error": .., "error_description": ..}`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> Response:
        return Response.json(
            {"error": self.error, "error_description": self.description}, status=self.status
        )


class TestApiError(Exception):
    """An error of the sandbox's own /_sandbox/ test API."""

    __test__ = False  # not a pytest test class

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
