"""Where OAuth and API requests go (Google, or the sandbox at ``google.endpoint``),
and the one rule about plain http: only to a loopback address.

:meth:`Endpoints.for_config` also sets the process's oauthlib transport policy
(``OAUTHLIB_INSECURE_TRANSPORT``) to match, so that it is never in force while
talking to Google.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from followupd.errors import ConfigError

if TYPE_CHECKING:
    from followupd.core.settings import Config

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
GOOGLE_GMAIL_API = "https://gmail.googleapis.com/"

INSECURE_TRANSPORT_VAR = "OAUTHLIB_INSECURE_TRANSPORT"


def is_loopback_url(url: str) -> bool:
    """True when *url*'s host is 127.0.0.0/8, ::1 or localhost (nothing else)."""
    host = (urllib.parse.urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoints:
    """Where the OAuth and API requests go: Google, or ``google.endpoint`` (sandbox)."""

    auth_uri: str
    token_uri: str
    revoke_uri: str
    gmail_api: str
    """``client_options={"api_endpoint": ...}`` for ``build("gmail", "v1")``."""
    base: str = ""
    """The configured ``google.endpoint``; empty for Google."""

    @property
    def is_loopback(self) -> bool:
        return bool(self.base) and is_loopback_url(self.base)

    @classmethod
    def google(cls) -> Endpoints:
        return cls(
            GOOGLE_AUTH_URI,
            GOOGLE_TOKEN_URI,
            GOOGLE_REVOKE_URI,
            GOOGLE_GMAIL_API,
        )

    @classmethod
    def for_base(cls, base: str) -> Endpoints:
        base = base.strip().rstrip("/")
        if not base:
            return cls.google()
        scheme = urllib.parse.urlsplit(base).scheme
        if scheme not in ("http", "https"):
            raise ConfigError([f'google.endpoint: expected an http(s) base URL, got "{base}"'])
        if scheme == "http" and not is_loopback_url(base):
            raise ConfigError(
                [
                    f"google.endpoint: plain http is allowed only for a loopback address "
                    f'(127.0.0.1, ::1, localhost), got "{base}": tokens would cross the '
                    "network unencrypted. Use https."
                ]
            )
        return cls(
            auth_uri=f"{base}/o/oauth2/auth",
            token_uri=f"{base}/token",
            revoke_uri=f"{base}/revoke",
            gmail_api=f"{base}/",
            base=base,
        )

    @classmethod
    def for_config(cls, config: Config) -> Endpoints:
        """The endpoints for *config*; also sets the process's oauthlib transport policy.

        ``OAUTHLIB_INSECURE_TRANSPORT=1`` is set only when the endpoint is a loopback
        address (the sandbox over plain http) and removed otherwise, so that it is never
        in force while talking to Google.
        """
        endpoints = cls.for_base(config.google.endpoint)
        endpoints.apply_transport_policy()
        return endpoints

    def apply_transport_policy(self) -> None:
        if self.is_loopback:
            os.environ[INSECURE_TRANSPORT_VAR] = "1"
        else:
            os.environ.pop(INSECURE_TRANSPORT_VAR, None)
