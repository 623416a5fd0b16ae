"""A real HTTP server on loopback standing in for the SMS gateway's webhook."""

import json
import threading
import time
from collections import deque
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from portal.borrowers.models import Borrower
from portal.extensions import db

# Alibaba Cloud SMS and Tencent Cloud SMS on loopback, each in turn (provider_server.py).
from tests.care.provider_server import provider  # noqa: F401


class WebhookServer:
    """Records every POST; answers with the next planned reply (default 200)."""

    def __init__(self):
        self.received: list[dict] = []
        self.headers: list[dict] = []
        self.replies: deque = deque()
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/greetings"

    def plan(self, *replies):
        """Queue replies: an HTTP status, or ("sleep", seconds) to answer late."""
        self.replies.extend(replies)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with server.lock:
                    reply = server.replies.popleft() if server.replies else 200
                    server.received.append(json.loads(body))
                    server.headers.append(dict(self.headers))
                if isinstance(reply, tuple):
                    time.sleep(reply[1])
                    reply = 200
                self.send_response(reply)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if reply < 300 else b'{"error": "down"}')

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def webhook(app, monkeypatch):
    """The server, and the app configured to send through it."""
    server = WebhookServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "CARE_GATEWAY", "webhook")
    monkeypatch.setitem(app.config, "CARE_WEBHOOK_URL", server.url)
    monkeypatch.setitem(app.config, "CARE_WEBHOOK_TIMEOUT", "2")
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def cast(app, world):
    """The World's borrowers, born on a day far from the test days."""
    with app.app_context():
        db.session.execute(sa.update(Borrower).values(birth_date=date(1970, 6, 15)))
        db.session.commit()
    return world
