"""Static files under versioned names, compressed ahead of time, cached for good.

The build (``python -m portal.core.assets``, run by ``make setup``; in development also
when the app starts and a file of static/ changed) copies every file of ``static/``
into ``static-build/`` twice: under its own name and under a versioned name that
carries the first 12 hex digits of its content's SHA-256 (``css/portal.css`` →
``css/portal.3f2a9c0d1e4b.css``), with a gzip and, when it pays, a brotli copy beside
each (WhiteNoise's compressor). ``manifest.json`` maps each name to its versioned one.
Only new content costs anything: the build is idempotent, and every file is written
under a temporary name and renamed, so two processes building at once are harmless.

Serving (docs/deploy.md, section 6 for nginx) is the same under ``flask run`` and
gunicorn: WhiteNoise, as WSGI middleware in front of the app, answers ``/static/…``
from ``static-build/`` with the precompressed copy the browser accepts, and

- a versioned name with ``Cache-Control: public, max-age=31536000, immutable``;
- any other name with ``no-cache`` (the browser asks again each time, 304 when unchanged).

``url_for('static', filename='css/portal.css')`` returns the versioned URL (a
``url_defaults`` hook reads the manifest). A file missing from the build falls through
to Flask's own static route, unversioned.
"""

import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, current_app, url_for
from flask_compress import Compress
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Files a page of the portal may load: what the service worker precaches.
PAGE_EXTENSIONS = {".css", ".js", ".svg", ".png", ".ico", ".webp", ".woff2", ".woff", ".json"}
# Read from disk by WeasyPrint (reports), never by a page.
NOT_FOR_PAGES = ("fonts/", "pdf/")
# Not worth compressing ahead of time: already compressed, or never loaded by a page
# (source maps: devtools only; the PDF font: 5 MB of WeasyPrint's).
SKIP_COMPRESS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map", "ttc", "ttf", "otf")
_compressor = Compressor(extensions=SKIP_COMPRESS, quiet=True)


def versioned_name(name: str, digest: str) -> str:
    """``css/portal.css`` → ``css/portal.<digest>.css`` (the digest before the last suffix)."""
    folder, _, base = name.rpartition("/")
    stem, dot, suffix = base.rpartition(".")
    base = f"{stem}.{digest}.{suffix}" if dot and stem else f"{base}.{digest}"
    return f"{folder}/{base}" if folder else base


def _source_files(source: Path) -> Iterable[Path]:
    for path in sorted(source.rglob("*")):
        if path.is_file() and not any(
            part.startswith(".") for part in path.relative_to(source).parts
        ):
            yield path


def _write(target: Path, data: bytes) -> None:
    """Write ``data`` under a temporary name, then rename: readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _same_content(path: Path, data: bytes) -> bool:
    return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data


def _encodings(name: str, data: bytes) -> dict[str, bytes]:
    """The ``.br`` and ``.gz`` copies worth keeping (WhiteNoise's rules: at least 5% smaller)."""
    if not data or not _compressor.should_compress(name):
        return {}
    copies = {}
    if _compressor.use_brotli:
        compressed = _compressor.compress_brotli(data)
        if len(compressed) <= 0.95 * len(data):
            copies[".br"] = compressed
    compressed = _compressor.compress_gzip(data)
    if len(compressed) <= 0.95 * len(data):
        copies[".gz"] = compressed
    return copies


def _place(target: Path, name: str, data: bytes, copies: dict[str, bytes] | None) -> None:
    """``target`` holds ``data`` with its compressed copies beside it; the file itself last."""
    if copies is None:  # unchanged content: compressed copies already there
        return
    for suffix in (".br", ".gz"):
        companion = target.with_name(target.name + suffix)
        if suffix in copies:
            if not _same_content(companion, copies[suffix]):
                _write(companion, copies[suffix])
        else:
            companion.unlink(missing_ok=True)
    _write(target, data)


def _signature(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def build(source: Path, target: Path) -> dict[str, str]:
    """Bring ``target`` up to date with ``source``; returns {name: versioned name}."""
    source, target = Path(source), Path(target)
    files, sources = {}, {}
    for path in _source_files(source):
        name = path.relative_to(source).as_posix()
        data = path.read_bytes()
        versioned = versioned_name(name, hashlib.sha256(data).hexdigest()[:HASH_LENGTH])
        files[name], sources[name] = versioned, _signature(path)
        copies = None
        versioned_path = target / versioned
        if not _same_content(versioned_path, data):
            copies = _encodings(name, data)
            _place(versioned_path, versioned, data, copies)
        plain = target / name
        if not _same_content(plain, data) or not _companions_match(plain, versioned_path):
            copies = copies if copies is not None else _encodings(name, data)
            _place(plain, name, data, copies)
    manifest = {"version": 1, "files": files, "sources": sources}
    manifest_path = target / MANIFEST
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    if not manifest_path.is_file() or manifest_path.read_text() != text:
        _write(manifest_path, text.encode())
    return files


def _companions_match(plain: Path, versioned: Path) -> bool:
    for suffix in (".br", ".gz"):
        one, other = (
            plain.with_name(plain.name + suffix),
            versioned.with_name(versioned.name + suffix),
        )
        if one.is_file() != other.is_file():
            return False
        if one.is_file() and one.stat().st_size != other.stat().st_size:
            return False
    return True


def read_manifest(target: Path) -> dict:
    try:
        return json.loads((Path(target) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def is_current(source: Path, manifest: dict) -> bool:
    """Whether the build still matches ``source`` (same files, sizes and times)."""
    recorded = manifest.get("sources") or {}
    names = {path.relative_to(source).as_posix(): path for path in _source_files(Path(source))}
    if set(names) != set(recorded):
        return False
    return all(_signature(path) == recorded[name] for name, path in names.items())


def for_pages(name: str) -> bool:
    """Whether a page of the portal may load this file (not a PDF's font, not a map)."""
    return Path(name).suffix in PAGE_EXTENSIONS and not name.startswith(NOT_FOR_PAGES)


def static_urls() -> list[str]:
    """Every versioned URL a page of the portal may load (the service worker precaches them).

    Needs a request or an app context able to build URLs.
    """
    files = current_app.extensions["portal_assets"]["files"]
    return [url_for("static", filename=name) for name in sorted(files) if for_pages(name)]


def init_app(app: Flask) -> None:
    """Versioned ``url_for('static', …)``, WhiteNoise in front, compressed pages."""
    Compress(app)  # HTML and JSON (COMPRESS_MIMETYPES); `no-store` stays as it is
    source = Path(app.static_folder)
    target = Path(app.config["STATIC_BUILD_FOLDER"])
    manifest = read_manifest(target)
    if not is_current(source, manifest):
        if app.config["PORTAL_ENV"] == "production":
            log.warning(
                "static-build/ does not match static/: run `python -m portal.core.assets` "
                "(docs/deploy.md); serving %s",
                "the last build" if manifest else "unversioned, uncompressed files",
            )
        else:
            build(source, target)
            manifest = read_manifest(target)
    files = manifest.get("files", {})
    immutable = {f"{app.static_url_path}/{versioned}" for versioned in files.values()}
    app.extensions["portal_assets"] = {"files": files, "folder": target}

    @app.url_defaults
    def versioned_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = files.get(values["filename"], values["filename"])

    def headers(headers, path: str, url: str) -> None:
        headers["Cache-Control"] = IMMUTABLE if url in immutable else REVALIDATE
        headers["X-Content-Type-Options"] = "nosniff"

    if target.is_dir():
        app.wsgi_app = WhiteNoise(
            app.wsgi_app,
            root=str(target),
            prefix=app.static_url_path,
            max_age=None,
            allow_all_origins=False,
            add_headers_function=headers,
        )


def main(argv: list[str]) -> int:
    from portal import settings

    source = Path(argv[0]) if argv else settings.PROJECT_ROOT / "static"
    target = Path(argv[1]) if len(argv) > 1 else settings.STATIC_BUILD_FOLDER
    files = build(source, target)
    print(f"static-build: {len(files)} files versioned and compressed in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
