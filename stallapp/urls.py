"""Absolute links that leave the request, all built from ``PUBLIC_BASE_URL``.

Emails, QR codes and calendar feeds carry links that outlive the request that made them. Built
from the request's ``Host`` (or ``X-Forwarded-Host``) header, they would point wherever the sender
of that request chose: a forged ``Host`` on "forgot password" would mail the victim a reset link
to the attacker's site. So every such link comes from :func:`absolute_url`, which reads only the
configured base, and works the same in a request and in a command run by cron.

``PUBLIC_BASE_URL`` is required unless the app runs in tests (``TESTING``) or in debug mode
(``FLASK_DEBUG=1``, ``flask run --debug``), where :data:`DEVELOPMENT_BASE_URL` stands in.
Flask's ``TRUSTED_HOSTS`` defaults to the base's host, so a request naming another host is
refused with a 400 before any of the app runs.
"""

import logging
from collections.abc import Iterable
from urllib.parse import SplitResult, quote, urlsplit

from flask import Flask, current_app
from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

log = logging.getLogger(__name__)

#: Where ``flask run`` serves by default: the links' base in debug mode and tests when unset.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
#: Two names of the same local machine: a base on one of them accepts requests for either.
LOOPBACK_NAMES = ("127.0.0.1", "localhost")

EXAMPLE = "PUBLIC_BASE_URL=https://stalls.example.org"
MISSING_MESSAGE = (
    "PUBLIC_BASE_URL is not set. stallapp builds every link in its emails, QR codes and calendar "
    "feeds from it, never from the request's Host header, and accepts requests for its host "
    f"only. Set it to the address people use to reach this site, for example {EXAMPLE} (or "
    "https://example.org/stallapp when served under a path). It may be left unset only in "
    "development (FLASK_DEBUG=1 or `flask run --debug`; `make run` sets it) and in tests."
)


def parse_public_base_url(value: str) -> SplitResult:
    """Return the parts of a base URL: http(s)://host[:port][/path], nothing else.

    :raises ValueError: saying what is wrong with ``value``.
    """
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("it must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("it has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("it must not hold a user name or password")
    if "?" in value or "#" in value:
        raise ValueError("it must not have a query (?...) or a fragment (#...)")
    if any(character.isspace() for character in value):
        raise ValueError("it must not contain spaces")
    try:
        parts.port  # noqa: B018 - reading it validates it
    except ValueError as error:
        raise ValueError("its port is not a number between 0 and 65535") from error
    return parts


def configure_public_urls(app: Flask) -> None:
    """Check ``PUBLIC_BASE_URL`` (required outside development and tests); trust its host only.

    :raises RuntimeError: when it is missing in production or is not a valid base URL.
    """
    configured = (app.config.get("PUBLIC_BASE_URL") or "").strip()
    if not configured:
        if not (app.testing or app.debug):
            raise RuntimeError(MISSING_MESSAGE)
        # Development answers to whatever name the developer's phone uses; only links are fixed.
        app.config["PUBLIC_BASE_URL"] = DEVELOPMENT_BASE_URL
        return
    try:
        parts = parse_public_base_url(configured)
    except ValueError as error:
        raise RuntimeError(
            f"PUBLIC_BASE_URL={configured!r} is not valid: {error}. It must be "
            "http(s)://host[:port][/path] without a query or fragment, for example "
            f"{EXAMPLE}."
        ) from error
    app.config["PUBLIC_BASE_URL"] = configured.rstrip("/")
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts_for(parts.hostname)


def trusted_hosts_for(hostname: str) -> list[str]:
    """Return the host names a site whose base is on ``hostname`` answers to."""
    if hostname in LOOPBACK_NAMES:
        return list(LOOPBACK_NAMES)
    return [hostname]


def public_base_url() -> str:
    """Return the configured base URL, without a trailing slash."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def absolute_url(endpoint: str, **values) -> str:
    """Return the absolute URL of ``endpoint`` on the configured base, request or not.

    Takes the full endpoint name (``"blueprint.view"``) and its values, as ``url_for`` does,
    plus an optional ``_anchor``. The scheme, host and any path prefix come from
    ``PUBLIC_BASE_URL`` only.
    """
    anchor = values.pop("_anchor", None)
    base = urlsplit(public_base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    url = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(anchor, safe="%!#$&'()*+,/:;=?@")
    return url


class TrustedHostsOnly:
    """WSGI middleware: a request for a host outside ``TRUSTED_HOSTS`` gets a plain 400.

    Flask refuses it too, but only after its before-request hooks have run, and without a URL
    adapter the friendly error page cannot be drawn, so the answer became a 500. Refused here,
    none of the app runs. The list is read on each request, as Flask reads it.
    """

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        try:
            get_host(environ, self.app.config["TRUSTED_HOSTS"])
        except SecurityError as refusal:
            log.info("request refused: Host %r is not trusted", environ.get("HTTP_HOST"))
            return refusal(environ, start_response)
        return self.wsgi_app(environ, start_response)
