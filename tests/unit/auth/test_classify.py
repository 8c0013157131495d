"""What a failed refresh means, from the exceptions google-auth raises."""

from __future__ import annotations

from typing import Any

import pytest
from google.auth import exceptions as gexc

from followupd.adapters.google.auth_problems import classify_refresh_error
from followupd.errors import AuthError, GoogleUnavailable


def refresh_error(*args: Any, retryable: bool = False) -> gexc.RefreshError:
    return gexc.RefreshError(*args, retryable=retryable)  # type: ignore[no-untyped-call]


def _refresh_error(error: str, description: str = "", retryable: bool = False) -> gexc.RefreshError:
    data = {"error": error, "error_description": description}
    return refresh_error(f"{error}: {description}", data, retryable=retryable)


def test_invalid_grant_explains_testing_status() -> None:
    problem = classify_refresh_error(
        _refresh_error("invalid_grant", "Token has been expired or revoked.")
    )
    assert problem.kind == "invalid_grant"
    assert not problem.retryable
    assert "Token has been expired or revoked" in problem.message
    assert '"Testing"' in problem.fix and '"In production"' in problem.fix
    assert "7 days" in problem.fix
    assert "followupd login" in problem.fix
    error = problem.error()
    assert isinstance(error, AuthError) and error.exit_code == 77


@pytest.mark.parametrize("code", ["invalid_client", "unauthorized_client", "deleted_client"])
def test_client_problems(code: str) -> None:
    problem = classify_refresh_error(_refresh_error(code, "Unauthorized"))
    assert problem.kind == "invalid_client"
    assert "Desktop app" in problem.fix


def test_transport_errors_are_retryable() -> None:
    problem = classify_refresh_error(
        gexc.TransportError("Connection refused")  # type: ignore[no-untyped-call]
    )
    assert problem.kind == "unreachable" and problem.retryable
    error = problem.error()
    assert isinstance(error, GoogleUnavailable) and error.exit_code == 69


def test_server_errors_after_retries_are_retryable() -> None:
    exc = refresh_error("Internal error", {"error": "internal_failure"}, retryable=True)
    problem = classify_refresh_error(exc)
    assert problem.kind == "unreachable" and problem.retryable


def test_other_refresh_errors() -> None:
    problem = classify_refresh_error(
        refresh_error("The credentials do not contain the necessary fields")
    )
    assert problem.kind == "other" and not problem.retryable
    assert "necessary fields" in problem.message


def test_anything_else() -> None:
    problem = classify_refresh_error(ValueError("odd"))
    assert problem.kind == "other"
    assert "ValueError" in problem.message
