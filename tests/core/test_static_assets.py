"""Static files: versioned names, compressed copies, cached for good (portal/core/assets.py).

The app as `flask run` and gunicorn serve it (WhiteNoise in front of Flask): the
files of the build `make setup` made, which the app brings up to date at start in
development.
"""

import gzip
import json
import re
from pathlib import Path

import brotli
import pytest

from portal.core import assets

ROOT = Path(__file__).resolve().parents[2]
STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]+)"')
VERSIONED = re.compile(r"\.[0-9a-f]{12}(\.[A-Za-z0-9]+)?$")
LONG = "public, max-age=31536000, immutable"


def static_links(html: str) -> list[str]:
    return STATIC_LINK.findall(html)


def source_of(app, url: str) -> bytes:
    """The bytes of static/ behind a versioned URL."""
    files = app.extensions["portal_assets"]["files"]
    name = {v: k for k, v in files.items()}[url.removeprefix("/static/")]
    return (ROOT / "static" / name).read_bytes()


@pytest.fixture
def month_page(client, world):
    client.login("officer")
    return client.get("/visits/month")


def test_pages_link_only_versioned_static_urls(client, world):
    login_page = client.get("/login").get_data(as_text=True)
    links = static_links(login_page)
    assert "bootstrap" in " ".join(links)  # Bootstrap comes through the same scheme
    assert not re.search(r"/bootstrap/static/", login_page)
    client.login("officer")
    for page in ("/", "/visits/month"):
        links += static_links(client.get(page, follow_redirects=True).get_data(as_text=True))
    assert len(links) >= 4
    for link in links:
        assert VERSIONED.search(link), link


def test_versioned_urls_are_cached_for_good_and_compressed(client, app, world):
    links = static_links(client.get("/login").get_data(as_text=True))
    for link in links:
        source = source_of(app, link)
        for encoding, decompress in (("gzip", gzip.decompress), ("br", brotli.decompress)):
            answer = client.get(link, headers={"Accept-Encoding": encoding})
            assert answer.status_code == 200
            assert answer.headers["Cache-Control"] == LONG
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert "Accept-Encoding" in answer.headers["Vary"]
            if len(source) > 1024:  # every file worth it is compressed ahead of time
                assert answer.headers["Content-Encoding"] == encoding, link
                assert decompress(answer.data) == source
                assert len(answer.data) < len(source) / 2
        plain = client.get(link)
        assert "Content-Encoding" not in plain.headers
        assert plain.data == source


def test_bootstrap_css_travels_compressed(client):
    link = next(
        u for u in static_links(client.get("/login").get_data(as_text=True)) if "bootstrap.min" in u
    )
    answer = client.get(link, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert answer.headers["Content-Encoding"] == "br"
    assert len(answer.data) < 40 * 1024  # 227 KiB uncompressed


def test_unversioned_and_unknown_urls_do_not_get_the_long_lifetime(client):
    plain = client.get("/static/css/portal.css", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == "no-cache"
    assert plain.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(plain.data) == (ROOT / "static/css/portal.css").read_bytes()
    for unknown in ("/static/css/portal.000000000000.css", "/static/css/nothing.css"):
        answer = client.get(unknown)
        assert answer.status_code == 404
        assert "immutable" not in answer.headers.get("Cache-Control", "")


def test_html_pages_are_compressed_and_still_not_stored(client, world, month_page):
    assert month_page.status_code == 200
    for encoding, decompress in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        answer = client.get("/visits/month", headers={"Accept-Encoding": encoding})
        assert answer.headers["Content-Encoding"] == encoding
        assert answer.headers["Cache-Control"] == "no-store"
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert b"csrf-token" in decompress(answer.data)
    assert "Content-Encoding" not in client.get("/visits/month").headers


def test_static_urls_cover_what_pages_load(client, app, world):
    with app.test_request_context():
        urls = assets.static_urls()
    assert all(VERSIONED.search(url) for url in urls)
    assert not [url for url in urls if url.endswith((".map", ".ttc")) or "/pdf/" in url]
    client.login("officer")
    for page in ("/login", "/", "/visits/month"):
        for link in static_links(client.get(page, follow_redirects=True).get_data(as_text=True)):
            assert link in urls


def test_the_versioned_url_changes_with_the_content(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    style = source / "css" / "site.css"
    style.write_text("body { color: #123456; }\n" * 200)
    first = assets.build(source, target)["css/site.css"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", first)
    assert (target / first).read_bytes() == style.read_bytes()
    assert gzip.decompress((target / (first + ".gz")).read_bytes()) == style.read_bytes()
    assert brotli.decompress((target / (first + ".br")).read_bytes()) == style.read_bytes()

    # Idempotent: nothing is written again when nothing changed.
    written = {path: path.stat().st_mtime_ns for path in target.rglob("*")}
    assert assets.build(source, target)["css/site.css"] == first
    assert {path: path.stat().st_mtime_ns for path in target.rglob("*")} == written

    style.write_text("body { color: #654321; }\n" * 200)
    second = assets.build(source, target)["css/site.css"]
    assert second != first
    assert (target / second).read_bytes() == style.read_bytes()
    assert (target / first).is_file()  # pages still open keep their version
    assert (target / "css/site.css").read_bytes() == style.read_bytes()
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["files"]["css/site.css"] == second
    assert assets.is_current(source, manifest)
    style.write_text("changed again")
    assert not assets.is_current(source, manifest)


def test_versioned_names_only_match_the_versioned_pattern(app):
    files = app.extensions["portal_assets"]["files"]
    assert "vendor/bootstrap/bootstrap.min.css" in files
    for name, versioned in files.items():
        assert not VERSIONED.search(name), name
        assert VERSIONED.search(versioned), versioned
