"""A few seconds' memory of public answers, served before Flask runs.

A reader without a cookie asking for a public page or feed (an answer whose ``Cache-Control``
says ``public``, see :mod:`stallapp.caching`) gets the same bytes as the reader before them. Such
an answer is kept in the worker's memory for ``PUBLIC_CACHE_SECONDS`` (5 by default, 0 turns
it off, and it is off under ``TESTING``) and given again without the rate limiter, the session,
the login or the database: a popular event page costs what the trivial page costs. A request
whose ``If-None-Match`` names the kept ETag gets its 304 the same way.

Nobody with a cookie is ever served from here: organisers (and a visitor who has just posted a
form, which leaves a flash message in a cookie) always see the page as it is now. Any write
(a request other than GET, HEAD or OPTIONS) empties the worker's memory once it is answered; other
workers may show a page up to ``PUBLIC_CACHE_SECONDS`` old, which is what a shared cache in
front of the site would do with ``max-age`` anyway.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import parse_cache_control_header, parse_etags, parse_set_header, unquote_etag

#: Request headers a kept answer may vary on; an answer varying on anything else is not kept.
VARIED = {"accept-encoding": "HTTP_ACCEPT_ENCODING", "accept-language": "HTTP_ACCEPT_LANGUAGE"}
#: What the memory holds at most, per worker.
MAX_ENTRIES = 256
MAX_BODY = 512 * 1024
#: Headers a 304 repeats (RFC 9110, 15.4.5); the rest describe a body it does not have.
NOT_MODIFIED_HEADERS = {"cache-control", "content-location", "etag", "expires", "vary"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Kept:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    until: float


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def _keepable(status: str, headers: list[tuple[str, str]]) -> bool:
    """Tell whether an answer is the same for every reader and whole (a known length)."""
    if not status.startswith("200") or _header(headers, "set-cookie"):
        return False
    control = parse_cache_control_header(
        _header(headers, "cache-control"), cls=ResponseCacheControl
    )
    if not control.public or control.no_store or control.private:
        return False
    length = _header(headers, "content-length")
    if not length.isdigit() or int(length) > MAX_BODY:
        return False
    varied = {name.lower() for name in parse_set_header(_header(headers, "vary"))}
    return varied <= set(VARIED) | {"cookie"}


class PublicAnswerCache:
    """WSGI middleware keeping public answers for readers without a cookie (see the module)."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app = app
        self.wsgi_app = wsgi_app
        self.kept: dict[tuple, Kept] = {}

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        seconds = self.app.config.get("PUBLIC_CACHE_SECONDS", 0 if self.app.testing else 5)
        if (
            method != "GET"
            or not seconds
            or "HTTP_COOKIE" in environ
            or "HTTP_AUTHORIZATION" in environ
        ):
            answer = self.wsgi_app(environ, start_response)
            if method not in SAFE_METHODS:
                self.kept.clear()
            return answer
        key = (
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST"),
            environ.get("SCRIPT_NAME"),
            environ.get("PATH_INFO"),
            environ.get("QUERY_STRING"),
            *(environ.get(variable, "") for variable in VARIED.values()),
        )
        now = time.monotonic()
        kept = self.kept.get(key)
        if kept is not None and kept.until > now:
            return self._answer(kept, environ, start_response)
        if kept is not None:
            del self.kept[key]
        return self._fetch(key, now + seconds, environ, start_response)

    def _fetch(self, key: tuple, until: float, environ: dict, start_response):
        started = {}

        def remember(status, headers, exc_info=None):
            started["status"], started["headers"] = status, headers
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, remember)
        if not started or not _keepable(started["status"], started["headers"]):
            return answer
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        if len(self.kept) >= MAX_ENTRIES:
            self.kept.pop(next(iter(self.kept)))
        self.kept[key] = Kept(
            started["status"],
            list(started["headers"]),
            body,
            _header(started["headers"], "etag"),
            until,
        )
        return [body]

    @staticmethod
    def _answer(kept: Kept, environ: dict, start_response) -> Iterable[bytes]:
        wanted = environ.get("HTTP_IF_NONE_MATCH", "")
        # If-None-Match compares weakly (RFC 9110, 13.1.2): W/"x" matches "x".
        if kept.etag and wanted and parse_etags(wanted).contains_weak(unquote_etag(kept.etag)[0]):
            headers = [(k, v) for k, v in kept.headers if k.lower() in NOT_MODIFIED_HEADERS]
            start_response("304 Not Modified", headers)
            return []
        start_response(kept.status, list(kept.headers))
        return [kept.body]
