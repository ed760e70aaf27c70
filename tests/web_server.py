"""An ASGI app served by a real uvicorn on 127.0.0.1 (a free port) in a background thread, for HTTP tests.

The listening socket is bound before uvicorn starts, so a client can connect at once: its request waits in
the socket's backlog until the server accepts it, and no test has to poll or sleep for the server.
"""

from __future__ import annotations

import socket
import threading

import uvicorn
from starlette.types import ASGIApp


class WebServer:
    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.port = int(self._socket.getsockname()[1])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, app: ASGIApp) -> None:
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="uvicorn", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> WebServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
            assert not self._thread.is_alive(), "uvicorn did not stop"
        self._socket.close()
