"""The AWS API emulator (moto in server mode) inside the cluster process, on the cluster's loopback address.

In-process (werkzeug threads) so the cloud layer can read instance state and serve target health
without a second process; boto3 clients, the plugin's included, reach it over HTTP like any AWS
endpoint. It stops with the cluster (and dies with its process).

Started lazily: the socket is bound (and its address published) when the cluster starts, but moto
is imported and the account populated only when the first request arrives (or the cloud layer asks),
so a cluster whose tests never touch AWS does not pay moto's ~2-4 s of start-up CPU. Requests that
arrive meanwhile wait until the account is complete. The population's own requests carry
``INTERNAL_AGENT`` in their User-Agent and pass straight through.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

from .endpoint import AwsEndpoint

log = logging.getLogger(__name__)

# moto's bundled public AMI catalogue is useless here and slow to load; our launch templates
# name an EKS-optimised AMI id that moto accepts without a catalogue entry.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
INTERNAL_AGENT = "azchaos-embedded-cloud"


class LazyMotoApp:
    """WSGI app: builds moto's app and populates the account on first use, then delegates to it."""

    def __init__(self, populate: Callable[[], None]):
        self._populate = populate
        self._app: Any = None
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        #: Services moto does not serve, by signing name (``arc-zonal-shift``): WSGI apps of the cloud layer.
        self.services: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        #: Request guards (EKS Auto Mode's refusal of EC2 stop/terminate on its instances, ``provisioners/``):
        #: each gets the WSGI environ and the request body and returns a refusal (status, code, message) or None.
        self.guards: list[Callable[[dict[str, Any], bytes], tuple[int, str, str] | None]] = []

    def ensure_started(self) -> None:
        """Build moto's app and run the population once (other callers wait for it)."""
        if self.ready.is_set():
            return
        with self._lock:
            if self.ready.is_set():
                return
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

            self._app = DomainDispatcherApplication(create_backend_app)
            try:
                self._populate()
            except BaseException as e:  # served as a 500 naming the cause; the cluster log has the trace
                log.exception("populating the embedded AWS account failed")
                self.error = e
            self.ready.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        internal = INTERNAL_AGENT in environ.get("HTTP_USER_AGENT", "")
        if not (internal and self._app is not None):
            self.ensure_started()
        if self.error is not None:
            body = f"the embedded cluster's AWS emulator failed to start: {self.error!r}".encode()
            start_response("500 Internal Server Error", [("Content-Type", "text/plain"),
                                                         ("Content-Length", str(len(body)))])
            return [body]
        auth = environ.get("HTTP_AUTHORIZATION", "")
        for name, app in self.services.items():
            if f"/{name}/aws4_request" in auth:
                return app(environ, start_response)
        if self.guards and not internal:
            refusal = self._guard(environ)
            if refusal is not None:
                status, code, message = refusal
                body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                        f"<Message>{message}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID>"
                        "</Response>").encode()
                start_response(f"{status} Forbidden", [("Content-Type", "text/xml"),
                                                       ("Content-Length", str(len(body)))])
                return [body]
        return self._app(environ, start_response)

    def _guard(self, environ: dict[str, Any]) -> tuple[int, str, str] | None:
        """Read the body (and put it back for moto), then ask each guard."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        for guard in self.guards:
            refusal = guard(environ, body)
            if refusal is not None:
                return refusal
        return None


class MotoServer:
    """A moto server bound to ``host`` on a free port, populated by ``populate`` on first use."""

    def __init__(self, host: str, region: str, populate: Callable[[], None]):
        self.host = host
        self.region = region
        self.app = LazyMotoApp(populate)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.endpoint: AwsEndpoint | None = None

    @property
    def ready(self) -> bool:
        return self.app.ready.is_set() and self.app.error is None

    def start(self) -> AwsEndpoint:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per request otherwise
                pass

        self._server = make_server(self.host, 0, self.app, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.endpoint = AwsEndpoint(f"http://{host}:{port}", self.region)
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
