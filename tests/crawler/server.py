"""A local HTTP server (port 0) serving the fixture sites of tests/data/sites/, as scrapy's mockserver does.

It answers both as an origin (the ``Host`` header picks the site) and as a plain HTTP proxy (absolute
request URLs, ``GET http://alpha.test/robots.txt``), so the crawler keeps real host names while every
request stays on 127.0.0.1. A site's ``_routes.json`` maps paths to special answers: ``status``, ``body``,
``redirect`` (with ``status``), ``sleep`` (seconds, at most 5), ``bytes`` (a body of that size), ``gzip``
(serve that file gzipped), ``gzip_bytes`` (that many bytes, gzipped), ``file`` (serve another file),
``close`` (drop the connection).
Every request is recorded (host, path, User-Agent) so tests can assert what the crawler asked for.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TYPES = {
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".gz": "application/gzip",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Seen:
    host: str
    path: str
    user_agent: str


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the test output stays clean
        return

    def do_GET(self) -> None:
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            host, target = (parts.hostname or "").lower(), parts.path + (f"?{parts.query}" if parts.query else "")
        else:
            host, target = self.headers.get("Host", "").split(":")[0].lower(), self.path
        self.server.seen.append(Seen(host, target, self.headers.get("User-Agent", "")))
        site = self.server.root / host
        if not site.is_dir():
            return self._send(502, f"no site {host}".encode(), "text/plain")
        path = urlsplit(target).path or "/"
        routes = json.loads((site / "_routes.json").read_text()) if (site / "_routes.json").exists() else {}
        spec = routes.get(target) or routes.get(path)
        if spec is not None:
            return self._route(site, spec)
        self._file(site, path)

    def _route(self, site: Path, spec: dict[str, Any]) -> None:
        time.sleep(min(float(spec.get("sleep", 0)), 5.0))
        if spec.get("close"):
            self.close_connection = True
            return
        if "redirect" in spec:
            self.send_response(int(spec.get("status", 301)))
            self.send_header("Location", spec["redirect"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if "gzip_bytes" in spec:  # a small download that unpacks into a lot: a decompression bomb
            return self._send(200, gzip.compress(b"<" * int(spec["gzip_bytes"])), TYPES[".gz"])
        if "gzip" in spec:
            return self._send(200, gzip.compress((site / spec["gzip"]).read_bytes()), TYPES[".gz"])
        if "file" in spec:
            return self._file(site, "/" + spec["file"])
        body = b"x" * int(spec["bytes"]) if "bytes" in spec else str(spec.get("body", "")).encode()
        self._send(int(spec.get("status", 200)), body, spec.get("type", "text/html; charset=utf-8"))

    def _file(self, site: Path, path: str) -> None:
        base = site / path.lstrip("/")
        for candidate in (base, base.with_name(base.name + ".html"), base / "index.html"):
            if candidate.is_file() and site in candidate.resolve().parents:
                return self._send(200, candidate.read_bytes(), TYPES.get(candidate.suffix, "application/octet-stream"))
        self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root.resolve()
        self.seen: list[Seen] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that gave up (timeouts) or spoke TLS to plain HTTP is expected here


class SiteServer:
    def __init__(self, root: Path) -> None:
        self._server = _Server(root)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def seen(self) -> list[Seen]:
        return list(self._server.seen)

    def paths(self, host: str) -> list[str]:
        return [s.path for s in self._server.seen if s.host == host]
