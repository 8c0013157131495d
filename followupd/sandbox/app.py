"""The Sandbox: the sandbox's state served over HTTP on 127.0.0.1, its lifecycle, and
the split of requests between the test API (/_sandbox/) and Google's endpoints."""

from __future__ import annotations

import threading
from typing import Any

from .dispatch import GoogleEndpoints
from .errors import Response
from .server import HttpServer, Request
from .state import SandboxState
from .testapi import handle_test_api

Json = dict[str, Any]


class Sandbox(SandboxState):
    """A local fake of Google's OAuth, Calendar v3 and Gmail v1 endpoints."""

    def __init__(
        self,
        seed: Json | None = None,
        user_email: str | None = None,
        user_name: str | None = None,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        fault_seed: int = 0,
        verbose: bool = False,
    ) -> None:
        super().__init__(seed, user_email, user_name, fault_seed=fault_seed)
        self.verbose = verbose
        self._host = host
        self._port = port
        self._endpoints = GoogleEndpoints(
            discovery=self._discovery,
            oauth=self._oauth,
            calendar=self._calendar,
            mail=self._mail,
            faults=self._faults,
            counts=self._counts,
            lock=self._lock,
        )
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        server = HttpServer((self._host, self._port), self.handle, verbose=self.verbose)
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return f"http://{self._host}:{self._port}"

    # ------------------------------------------------------------- dispatch
    def handle(self, req: Request) -> Response:
        if req.path == "/_sandbox" or req.path.startswith("/_sandbox/"):
            return handle_test_api(self, req)
        return self._endpoints.handle(req)
