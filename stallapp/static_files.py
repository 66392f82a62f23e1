"""Static files under content-hashed URLs, kept by browsers for a year, compressed once.

``url_for('static', filename='css/app.css')`` gives ``/static/css/app.css?v=<hash>``, where the
hash is of the file's content, worked out when the app starts. A request that carries the
current hash is answered with ``Cache-Control: public, max-age=31536000, immutable``: a changed
file gets a new URL, so a browser never needs to ask about the old one again. A request without
it (the service worker's list of assets, a page rendered before a deployment) gets ``no-cache``
and an ETag, revalidated on each use as before. The hash rides in the query string, so a file's
path stays the same and the sale screen's service worker, which matches assets by path, keeps
finding them.

The service worker (``/sale-sw.js``) and the manifest (``/manifest.webmanifest``) are routes
with stable URLs and short caching of their own: browsers look for updates at fixed addresses.
"""

import hashlib
import mimetypes
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, current_app, request

from stallapp.compression import ENCODERS, chosen_encoding, is_compressible

#: The query argument that carries a file's hash.
VERSION_ARGUMENT = "v"
FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: Compressed once per file and process, so the slowest (smallest) settings are affordable.
STATIC_LEVELS = {"gzip": 9, "br": 11}


@dataclass
class StaticFile:
    """One file of the static folder as served: its bytes, hash and compressed forms."""

    path: Path
    mimetype: str
    digest: str
    #: (modification time in ns, size): when either changes the file is read again.
    stamp: tuple[int, int]
    body: bytes
    #: Compressed forms made so far; None where compressing did not make it smaller.
    encoded: dict[str, bytes | None] = field(default_factory=dict)

    def variant(self, encoding: str) -> bytes | None:
        """Return the body compressed with ``encoding``, made on first use; None if no smaller."""
        if encoding not in self.encoded:
            data = ENCODERS[encoding](self.body, STATIC_LEVELS[encoding])
            self.encoded[encoding] = data if len(data) < len(self.body) else None
        return self.encoded[encoding]


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def _read(path: Path) -> StaticFile:
    body = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return StaticFile(
        path=path,
        mimetype=mimetype,
        digest=hashlib.blake2b(body, digest_size=8).hexdigest(),
        stamp=_stamp(path),
        body=body,
    )


class StaticFiles:
    """The static folder's files by their name in URLs (``css/app.css``)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: dict[str, StaticFile] = {}
        self.lock = threading.Lock()
        for directory, _folders, names in os.walk(folder):
            for name in names:
                if name.startswith("."):
                    continue
                path = Path(directory) / name
                self.files[path.relative_to(folder).as_posix()] = _read(path)

    def digest_of(self, filename: str | None) -> str | None:
        """Return the hash that goes into ``filename``'s URL, if the folder has it."""
        file = self.files.get(filename) if filename else None
        return file.digest if file else None

    def current(self, filename: str) -> StaticFile | None:
        """Return ``filename`` as it is on disk now (read again if it changed since)."""
        file = self.files.get(filename)
        if file is None:
            return None
        try:
            stamp = _stamp(file.path)
        except OSError:
            return None
        if stamp != file.stamp:
            # Edited while the app runs (development): serve and hash what is there now.
            with self.lock:
                file = self.files[filename] = _read(file.path)
        return file


def serve_static(filename: str) -> Response:
    """Serve a static file: a year's caching under its current hash, compressed when asked."""
    files: StaticFiles = current_app.extensions["static_files"]
    file = files.current(filename)
    if file is None or request.range is not None:
        # Unknown names (and their 404), and byte ranges, are Flask's own business.
        return current_app.send_static_file(filename)
    body, encoding = file.body, None
    if is_compressible(file.mimetype):
        encoding = chosen_encoding(request.accept_encodings)
        variant = file.variant(encoding) if encoding else None
        if variant is None:
            encoding = None
        else:
            body = variant
    response = Response(body, mimetype=file.mimetype)
    if is_compressible(file.mimetype):
        response.vary.add("Accept-Encoding")
    if encoding:
        response.headers["Content-Encoding"] = encoding
    # Each encoding is a representation of its own, with its own strong validator.
    response.set_etag(f"{file.digest}-{encoding}" if encoding else file.digest)
    current = request.args.get(VERSION_ARGUMENT) == file.digest
    response.headers["Cache-Control"] = FOREVER if current else REVALIDATE
    return response.make_conditional(request)


def register_static_files(app: Flask) -> None:
    """Hash the static files, put the hash in their URLs, and serve them with long caching."""
    if not app.static_folder or "static" not in app.view_functions:
        return
    files = StaticFiles(Path(app.static_folder))
    app.extensions["static_files"] = files
    app.view_functions["static"] = serve_static

    @app.url_defaults
    def add_static_digest(endpoint: str, values: dict) -> None:
        if endpoint == "static" and VERSION_ARGUMENT not in values:
            digest = files.digest_of(values.get("filename"))
            if digest:
                values[VERSION_ARGUMENT] = digest
