"""Google's OAuth 2.0 endpoints for installed apps: auth (consent auto-approved),
token (authorization_code, refresh_token), revoke, tokeninfo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

from .errors import OAuthError, Response, unauthenticated

EXTRA_SCOPES = frozenset(
    {
        "openid",
        "email",
        "profile",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    }
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CODE_TTL = 600.0


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    challenge_method: str
    expires_at: float
    used: bool = False


@dataclass
class Grant:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    refresh_token: str
    revoked: bool = False
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class AccessToken:
    token: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    grant: Grant | None
    revoked: bool = False

    def valid(self) -> bool:
        if self.revoked or time.time() >= self.expires_at:
            return False
        return not (self.grant is not None and self.grant.revoked)


def _page(status: int, error: str, message: str) -> Response:
    body = (
        "<!doctype html><title>Error</title>"
        f"<h1>Access blocked</h1><p>Error {status}: {html.escape(error)}</p>"
        f"<p>{html.escape(message)}</p>\n"
    )
    return Response(status=status, body=body.encode(), content_type="text/html; charset=utf-8")


def _first(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


class OAuth:
    def __init__(self, known_scopes: set[str], user_email: str) -> None:
        self.known_scopes = set(known_scopes) | EXTRA_SCOPES
        self.user_email = user_email
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}  # by refresh token
        self.tokens: dict[str, AccessToken] = {}
        self.clients: dict[str, str] = {}  # client_id -> client_secret first seen
        self.deny_scopes: set[str] = set()
        self.access_token_ttl = 3600

    # ---------------------------------------------------------------- auth
    def authorize(self, q: dict[str, list[str]]) -> Response:
        client_id = _first(q, "client_id")
        redirect_uri = _first(q, "redirect_uri")
        if not client_id:
            return _page(400, "invalid_request", "Missing required parameter: client_id")
        if not redirect_uri:
            return _page(400, "invalid_request", "Missing required parameter: redirect_uri")
        if redirect_uri.startswith("urn:ietf:wg:oauth:2.0:oob"):
            return _page(400, "invalid_request", "The out-of-band (OOB) flow has been blocked.")
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or (parts.hostname or "") not in LOOPBACK_HOSTS:
            return _page(
                400,
                "redirect_uri_mismatch",
                "Installed apps must redirect to a loopback address (http://127.0.0.1:PORT/ "
                "or http://localhost:PORT/).",
            )
        if _first(q, "response_type") != "code":
            return _page(400, "unsupported_response_type", "response_type must be 'code'")
        scope_text = _first(q, "scope") or ""
        scopes = [s for s in scope_text.split() if s]
        if not scopes:
            return _page(400, "invalid_request", "Missing required parameter: scope")
        unknown = [s for s in scopes if s not in self.known_scopes]
        if unknown:
            return _page(
                400, "invalid_scope", "Some requested scopes were invalid: " + " ".join(unknown)
            )
        challenge = _first(q, "code_challenge")
        method = _first(q, "code_challenge_method") or ("plain" if challenge else "")
        if challenge is not None and method not in ("S256", "plain"):
            return _page(400, "invalid_request", "Invalid code_challenge_method")
        state = _first(q, "state")
        granted = [s for s in scopes if s not in self.deny_scopes]
        params: dict[str, str] = {}
        if state is not None:
            params["state"] = state
        if not granted:
            params["error"] = "access_denied"
        else:
            code = "4/0sandbox-" + secrets.token_urlsafe(24)
            self.codes[code] = AuthCode(
                client_id=client_id,
                redirect_uri=redirect_uri,
                scopes=tuple(granted),
                challenge=challenge,
                challenge_method=method,
                expires_at=time.time() + CODE_TTL,
            )
            params["code"] = code
            params["scope"] = " ".join(granted)
        sep = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + sep + urlencode(params)
        return Response(
            status=302,
            body=b"",
            content_type="text/html; charset=UTF-8",
            headers={"Location": location},
        )

    # --------------------------------------------------------------- token
    def _client(self, form: dict[str, list[str]], headers: dict[str, str]) -> tuple[str, str]:
        client_id = _first(form, "client_id")
        client_secret = _first(form, "client_secret")
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "Unauthorized", 401) from None
            cid, _, csecret = decoded.partition(":")
            client_id = client_id or unquote_plus(cid)
            client_secret = client_secret or unquote_plus(csecret)
        if not client_id:
            raise OAuthError("invalid_request", "Could not determine client ID from request.")
        if not client_secret:
            raise OAuthError("invalid_request", "client_secret is missing.")
        known = self.clients.get(client_id)
        if known is None:
            self.clients[client_id] = client_secret
        elif not hmac.compare_digest(known, client_secret):
            raise OAuthError("invalid_client", "Unauthorized", 401)
        return client_id, client_secret

    def token(self, form: dict[str, list[str]], headers: dict[str, str]) -> Response:
        grant_type = _first(form, "grant_type")
        if grant_type == "authorization_code":
            return Response.json(self._code_grant(form, headers))
        if grant_type == "refresh_token":
            return Response.json(self._refresh_grant(form, headers))
        if not grant_type:
            raise OAuthError("invalid_request", "Missing required parameter: grant_type")
        raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _new_access(
        self, client_id: str, scopes: tuple[str, ...], grant: Grant | None
    ) -> AccessToken:
        tok = AccessToken(
            token="ya29.sandbox-" + secrets.token_urlsafe(32),
            client_id=client_id,
            scopes=scopes,
            expires_at=time.time() + self.access_token_ttl,
            grant=grant,
        )
        self.tokens[tok.token] = tok
        if grant is not None:
            grant.access_tokens.append(tok.token)
        return tok

    def _code_grant(self, form: dict[str, list[str]], headers: dict[str, str]) -> dict[str, Any]:
        code_value = _first(form, "code")
        if not code_value:
            raise OAuthError("invalid_request", "Missing required parameter: code")
        client_id, secret = self._client(form, headers)
        code = self.codes.get(code_value)
        if code is None:
            raise OAuthError("invalid_grant", "Malformed auth code.")
        if code.used or time.time() > code.expires_at:
            raise OAuthError("invalid_grant", "Bad Request")
        if code.client_id != client_id:
            raise OAuthError("invalid_grant", "Bad Request")
        if _first(form, "redirect_uri") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        if code.challenge is not None:
            verifier = _first(form, "code_verifier")
            if not verifier:
                raise OAuthError("invalid_grant", "Missing code verifier.")
            if code.challenge_method == "S256":
                digest = hashlib.sha256(verifier.encode("ascii")).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            else:
                expected = verifier
            if not hmac.compare_digest(expected, code.challenge):
                raise OAuthError("invalid_grant", "Invalid code verifier.")
        code.used = True
        grant = Grant(
            client_id=client_id,
            client_secret=secret,
            scopes=code.scopes,
            refresh_token="1//sandbox-" + secrets.token_urlsafe(32),
        )
        self.grants[grant.refresh_token] = grant
        tok = self._new_access(client_id, grant.scopes, grant)
        return {
            "access_token": tok.token,
            "expires_in": self.access_token_ttl,
            "refresh_token": grant.refresh_token,
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }

    def _refresh_grant(self, form: dict[str, list[str]], headers: dict[str, str]) -> dict[str, Any]:
        refresh = _first(form, "refresh_token")
        if not refresh:
            raise OAuthError("invalid_request", "Missing required parameter: refresh_token")
        client_id, secret = self._client(form, headers)
        grant = self.grants.get(refresh)
        if grant is None or grant.revoked:
            raise OAuthError("invalid_grant", "Token has been expired or revoked.")
        if grant.client_id != client_id:
            raise OAuthError("unauthorized_client", "Unauthorized")
        if not hmac.compare_digest(grant.client_secret, secret):
            raise OAuthError("invalid_client", "Unauthorized", 401)
        scopes = grant.scopes
        asked = _first(form, "scope")
        if asked:
            wanted = tuple(s for s in asked.split() if s)
            if not set(wanted) <= set(grant.scopes):
                raise OAuthError("invalid_scope", "Some requested scopes were not granted.")
            scopes = wanted
        tok = self._new_access(client_id, scopes, grant)
        return {
            "access_token": tok.token,
            "expires_in": self.access_token_ttl,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }

    # -------------------------------------------------------------- revoke
    def revoke(self, token: str | None) -> Response:
        if not token:
            raise OAuthError("invalid_request", "Missing required parameter: token")
        grant = self.grants.get(token)
        access = self.tokens.get(token)
        if grant is None and access is not None:
            grant = access.grant
            access.revoked = True
        if grant is None and access is None:
            raise OAuthError("invalid_token", "Token expired or revoked")
        if grant is not None:
            if grant.revoked and access is None:
                raise OAuthError("invalid_token", "Token expired or revoked")
            grant.revoked = True
        return Response.json({})

    def tokeninfo(self, token: str | None) -> Response:
        tok = self.tokens.get(token or "")
        if tok is None or not tok.valid():
            raise OAuthError("invalid_token", "Invalid Value")
        left = int(tok.expires_at - time.time())
        return Response.json(
            {
                "azp": tok.client_id,
                "aud": tok.client_id,
                "scope": " ".join(tok.scopes),
                "exp": str(int(tok.expires_at)),
                "expires_in": left,
                "email": self.user_email,
                "email_verified": "true",
                "access_type": "offline",
            }
        )

    # --------------------------------------------------- API authentication
    def authenticate(self, headers: dict[str, str], params: dict[str, Any]) -> AccessToken:
        auth = headers.get("authorization", "")
        value: str | None = None
        if auth:
            scheme, _, rest = auth.partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                value = rest.strip()
            else:
                raise unauthenticated(invalid=True)
        else:
            value = params.get("access_token") or params.get("oauth_token")
        if not value:
            raise unauthenticated(invalid=False)
        tok = self.tokens.get(value)
        if tok is None or not tok.valid():
            raise unauthenticated(invalid=True)
        return tok

    # ------------------------------------------------------------- test API
    def issue(self, scopes: list[str], client_id: str, client_secret: str) -> dict[str, Any]:
        known = self.clients.setdefault(client_id, client_secret)
        if known != client_secret:
            raise ValueError("client_secret does not match the one seen for this client_id")
        granted = tuple(s for s in scopes if s not in self.deny_scopes)
        grant = Grant(client_id, client_secret, granted, "1//sandbox-" + secrets.token_urlsafe(32))
        self.grants[grant.refresh_token] = grant
        tok = self._new_access(client_id, granted, grant)
        return {
            "access_token": tok.token,
            "expires_in": self.access_token_ttl,
            "refresh_token": grant.refresh_token,
            "scope": " ".join(granted),
            "token_type": "Bearer",
            "client_id": client_id,
            "client_secret": client_secret,
        }

    def revoke_all(self) -> None:
        for grant in self.grants.values():
            grant.revoked = True
        for tok in self.tokens.values():
            tok.revoked = True

    def expire_access_tokens(self) -> None:
        now = time.time()
        for tok in self.tokens.values():
            tok.expires_at = min(tok.expires_at, now)
