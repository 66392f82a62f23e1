"""Response headers, safe redirects and the session cookie's Secure flag."""

from collections.abc import Iterable
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from stallapp.errors import database_failed
from stallapp.extensions import csrf
from stallapp.urls import LOOPBACK_NAMES


def content_security_policy(frame_ancestors: Iterable[str] = ()) -> str:
    """Return the policy every page gets; only an embed names the sites that may frame it."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()


def is_safe_next(target: str | None) -> bool:
    """Tell whether ``target`` is a relative path on this site, safe to redirect to after login.

    Browsers treat a backslash like a slash and drop tabs and newlines, so ``/\\evil`` and
    ``/\\t/evil`` are as dangerous as ``//evil``; anything with a scheme or host is refused too.
    """
    if not target or not isinstance(target, str):
        return False
    if any(ord(character) < 32 or character == "\\" for character in target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, fallback: str) -> str:
    """Return ``target`` when it is safe to redirect to, else ``fallback``."""
    return target if is_safe_next(target) else fallback


def register_security_headers(app: Flask) -> None:
    """Add the security headers to every response, and no-store to logged-in pages."""
    if app.config.get("PUBLIC_BASE_URL", "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True

    @app.after_request
    def add_security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if request.endpoint == "static":
            # The same bytes for everyone, cached as stallapp.static_files says; and no user
            # is loaded from the database for a stylesheet.
            pass
        elif database_failed() or current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        elif response.mimetype == "text/html":
            # Pages carry CSRF tokens; a public page that may be cached says so itself.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


#: ``Sec-Fetch-Site`` values of a request this site's own pages made (or the person typed).
OWN_FETCH_SITES = frozenset({"same-origin", "none"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(public_base_url: str) -> set[str]:
    """Return the origins of this site's pages: ``PUBLIC_BASE_URL``'s, never the request's.

    On a loopback base (``make run``) both names of the machine are the site, as for
    ``TRUSTED_HOSTS``.
    """
    parts = urlsplit(public_base_url)
    origins = {_origin_of(public_base_url)}
    if parts.hostname in LOOPBACK_NAMES:
        port = f":{parts.port}" if parts.port else ""
        origins |= {f"{parts.scheme}://{name}{port}" for name in LOOPBACK_NAMES}
    return origins


def is_same_origin_request() -> bool:
    """Tell whether the browser says this request comes from one of this site's own pages.

    ``Sec-Fetch-Site`` first (every current browser sends it), else ``Origin``, else
    ``Referer`` (sent to ourselves under our ``same-origin`` referrer policy); a request with
    none of them is refused, as is ``Origin: null`` (sandboxed frames, cross-site redirects).
    """
    own = own_origins(current_app.config["PUBLIC_BASE_URL"])
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site in OWN_FETCH_SITES
    origin = request.headers.get("Origin")
    if origin:
        return origin.lower() in own
    referrer = request.headers.get("Referer")
    return bool(referrer) and _origin_of(referrer) in own


def same_origin_posts(view):
    """Protect a public form by where its POST comes from instead of by a CSRF token.

    A public page then sets no cookie at all for a reader (the token lived in the session), so
    browsers and shared caches may keep it. Its forms must be built without the token
    (``SomeForm(meta=NO_TOKEN)``). Like the token check, off when ``WTF_CSRF_ENABLED`` is.
    """

    @wraps(view)
    def checked(*args, **kwargs):
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and current_app.config.get("WTF_CSRF_ENABLED", True)
            and not is_same_origin_request()
        ):
            raise CSRFError(_("The form was not sent from this site."))
        return view(*args, **kwargs)

    csrf.exempt(checked)
    return checked


#: Form options for a view protected by :func:`same_origin_posts`: no token, no session.
NO_TOKEN = {"csrf": False}
