"""Compress text responses in the app itself, so `make run` and a bare gunicorn get it too.

Brotli when the client asks for it and the ``brotli`` package is installed, else gzip. Skipped:
small bodies (the headers would outweigh the saving), streamed and file responses (their body
is not in memory), partial content, and responses that chose an encoding themselves (the
static files, compressed once; see :mod:`stallapp.static_files`).
"""

import gzip
from collections.abc import Callable

from flask import Flask, Response, request

try:
    import brotli
except ImportError:  # optional: gzip alone is still worth it
    brotli = None

#: Media types worth compressing: pages, styles, scripts, feeds, calendars, tables.
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "text/calendar",
        "application/json",
        "application/manifest+json",
        "text/csv",
        "application/atom+xml",
        "application/xml",
        "image/svg+xml",
        "text/plain",
    }
)
#: Below this a compressed body saves less than a packet's worth; most such bodies fit in one.
MINIMUM_SIZE = 1024
#: Fast settings: a page is compressed on every request (static files use the slowest, once).
GZIP_LEVEL = 6
BROTLI_QUALITY = 5


def _gzip(data: bytes, level: int = GZIP_LEVEL) -> bytes:
    # mtime=0: the same body always gives the same bytes.
    return gzip.compress(data, compresslevel=level, mtime=0)


def _brotli(data: bytes, quality: int = BROTLI_QUALITY) -> bytes:
    return brotli.compress(data, quality=quality)


ENCODERS: dict[str, Callable[[bytes], bytes]] = {"gzip": _gzip}
if brotli is not None:
    ENCODERS["br"] = _brotli


def is_compressible(mimetype: str | None) -> bool:
    """Tell whether responses of this media type are compressed."""
    return mimetype in COMPRESSIBLE


def chosen_encoding(accept_encodings, offered=None) -> str | None:
    """Return the best of the ``offered`` encodings (default: every encoder) the client takes.

    ``accept_encodings`` is the request's parsed ``Accept-Encoding``. Brotli wins a tie: it is
    smaller for the same work.
    """
    offered = ENCODERS.keys() if offered is None else offered
    best, best_quality = None, 0.0
    for name in ("br", "gzip"):
        if name not in offered:
            continue
        quality = accept_encodings[name]
        if quality > best_quality:
            best, best_quality = name, quality
    return best


def compress_response(response: Response) -> Response:
    """Compress ``response`` in place for this request's client, when it is worth it."""
    if not is_compressible(response.mimetype):
        return response
    if (
        response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or "Content-Range" in response.headers
        or "no-transform" in response.headers.get("Cache-Control", "")
    ):
        return response
    # Plain string work: werkzeug's parsed Vary set costs a sixth of a trivial request.
    vary = response.headers.get("Vary", "")
    if "accept-encoding" in vary.lower():
        return response  # the view chose its encoding itself
    response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    if response.status_code in (204, 206, 304):
        return response
    encoding = chosen_encoding(request.accept_encodings)
    if encoding is None:
        return response
    body = response.get_data()
    if len(body) < MINIMUM_SIZE:
        return response
    response.set_data(ENCODERS[encoding](body))
    response.headers["Content-Encoding"] = encoding
    etag, weak = response.get_etag()
    if etag and not weak:
        # Another encoding of the same content: equivalent, not byte-for-byte the same.
        response.set_etag(etag, weak=True)
    return response


def register_compression(app: Flask) -> None:
    """Compress every eligible response after all other hooks have finished with it."""
    # Flask runs after_request hooks in reverse order of registration: first in the list is
    # last to run, so this sees the final body and headers.
    app.after_request_funcs.setdefault(None, []).insert(0, compress_response)
