"""nginx serves the static files as the app does (docs/deploy.md, section 6).

The guide's `map` and `location /static/` are read from docs/deploy.md and run in a
real nginx on a loopback port (`/srv/portal/app` is this checkout), next to the app's
own answers (WhiteNoise): the same bytes, the same encodings, the same cache headers.
"""

import gzip
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import brotli
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
LONG = "public, max-age=31536000, immutable"


def nginx_block() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", (ROOT / "docs/deploy.md").read_text(), flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def _braced(text: str, start: str) -> str:
    """The block of ``text`` that opens with the line ``start``…``{``, braces balanced."""
    begin = text.index(start)
    depth = 0
    for index in range(text.index("{", begin), len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[begin : index + 1]
    raise AssertionError(f"unbalanced block {start!r}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def nginx(tmp_path_factory, app):
    """The guide's static block in a real nginx; its base URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).exists(), "nginx is installed by `make test` (scripts/system-deps.sh)"
    assert BROTLI_MODULE.exists(), "libnginx-mod-http-brotli-static is installed by `make test`"
    block = nginx_block().replace("/srv/portal/app", str(ROOT))
    static_location = _braced(block, "location /static/")
    cache_map = _braced(block, "map $uri")
    folder = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    (folder / "nginx.conf").write_text(
        f"load_module {BROTLI_MODULE};\n"
        "daemon off;\nmaster_process off;\n"
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log off;\n    client_body_temp_path {folder};\n"
        f"{cache_map}\n"
        f"    server {{\n        listen 127.0.0.1:{port};\n{static_location}\n    }}\n"
        "}\n"
    )
    process = subprocess.Popen(
        [
            binary,
            "-p",
            str(folder),
            "-c",
            str(folder / "nginx.conf"),
            "-e",
            str(folder / "error.log"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(base + "/static/", timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
                pytest.fail(f"nginx did not start: {process.stdout.read()!r} {log}")
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


def _get(base: str, path: str, encoding: str = "identity") -> requests.Response:
    # stream=True: requests would otherwise decompress the body itself.
    answer = requests.get(
        base + path, headers={"Accept-Encoding": encoding}, stream=True, timeout=5
    )
    answer.raw.decode_content = False
    answer.body = answer.raw.read()
    return answer


def test_nginx_serves_versioned_files_for_good_and_compressed(nginx, app, client):
    files = app.extensions["portal_assets"]["files"]
    for name in ("vendor/bootstrap/bootstrap.min.css", "css/portal.css", "favicon.svg"):
        url = f"/static/{files[name]}"
        source = (ROOT / "static" / name).read_bytes()
        for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
            theirs = _get(nginx, url, encoding)
            ours = client.get(url, headers={"Accept-Encoding": encoding})
            assert theirs.status_code == ours.status_code == 200
            assert theirs.headers["Cache-Control"] == ours.headers["Cache-Control"] == LONG
            assert theirs.headers["X-Content-Type-Options"] == "nosniff"
            assert "Accept-Encoding" in theirs.headers["Vary"]
            assert (
                theirs.headers["Content-Encoding"] == ours.headers["Content-Encoding"] == encoding
            )
            assert decompress(theirs.body) == decompress(ours.data) == source
            assert theirs.headers["Content-Type"].split(";")[0] == ours.mimetype
        plain = _get(nginx, url)
        assert "Content-Encoding" not in plain.headers
        assert plain.body == source


def test_nginx_checks_unversioned_names_each_time(nginx, client):
    theirs = _get(nginx, "/static/css/portal.css", "gzip")
    ours = client.get("/static/css/portal.css", headers={"Accept-Encoding": "gzip"})
    assert theirs.status_code == ours.status_code == 200
    assert theirs.headers["Cache-Control"] == ours.headers["Cache-Control"] == "no-cache"
    assert gzip.decompress(theirs.body) == (ROOT / "static/css/portal.css").read_bytes()
    missing = _get(nginx, "/static/css/portal.000000000000.css")
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("Cache-Control", "")
