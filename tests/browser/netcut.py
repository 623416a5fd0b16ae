"""A tiny forwarding HTTP proxy on loopback that a test switches off: the network REALLY cut.

Playwright's ``context.set_offline(True)`` only stops the page's own requests: the
service worker's fetches and Background Sync still reach the server. Chromium launched
with ``proxy={"server": proxy.address}`` and ``--proxy-bypass-list=<-loopback>`` sends
every request (loopback included) through this proxy, and ``cut()`` closes the listening
socket and every open connection, so the browser gets "connection refused" from
everything, the worker included. ``restore()`` listens on the same port again.

One request per connection (it answers with ``Connection: close``), which keeps it
small: read the request head and its ``Content-Length`` body, send it to the one
upstream server (the test's live server), pipe the answer back, close. ``refuse(path)``
makes requests to that path fail as a dropped connection while the rest goes through.
"""

import contextlib
import socket
import threading
from urllib.parse import urlsplit

HEAD_LIMIT = 64 * 1024


class NetCut:
    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.port = None
        self._listener = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.refused_paths: set[str] = set()
        self.requests: list[str] = []  # "METHOD path" of every request forwarded
        self.restore()

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- switching ------------------------------------------------------------------

    def restore(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse every connection from now on and drop the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    close = cut

    def refuse(self, path: str) -> None:
        self.refused_paths.add(path)

    def allow(self, path: str) -> None:
        self.refused_paths.discard(path)

    # --- forwarding ---------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._listener is not listener:
                client.close()
                return
            with self._lock:
                self._open.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            head, body = self._read_request(client)
            if head is None:
                return
            lines = head.split(b"\r\n")
            method, target, version = lines[0].split(b" ", 2)
            path = urlsplit(target.decode("latin-1")).path or "/"
            query = urlsplit(target.decode("latin-1")).query
            if method != b"CONNECT":
                self.requests.append(f"{method.decode()} {path}")
            if method == b"CONNECT" or path in self.refused_paths:
                return  # closed without an answer: a dropped connection
            headers = [
                line
                for line in lines[1:]
                if line
                and not line.lower().startswith(
                    (b"connection:", b"proxy-connection:", b"keep-alive:")
                )
            ]
            origin_form = (path + ("?" + query if query else "")).encode("latin-1")
            request = b"\r\n".join(
                [
                    b" ".join([method, origin_form, version]),
                    *headers,
                    b"Connection: close",
                    b"",
                    b"",
                ]
            )
            upstream = socket.create_connection(self.upstream, timeout=30)
            with self._lock:
                self._open.add(upstream)
            upstream.sendall(request + body)
            while chunk := upstream.recv(65536):
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                if sock is None:
                    continue
                with self._lock:
                    self._open.discard(sock)
                with contextlib.suppress(OSError):
                    sock.close()

    @staticmethod
    def _read_request(client: socket.socket) -> tuple[bytes | None, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk or len(data) > HEAD_LIMIT:
                return None, b""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            body += chunk
        return head, body
