"""Response headers, safe redirects and the session cookie's Secure flag."""

from urllib.parse import urlsplit

from flask import Flask, request
from flask_login import current_user

from stallapp.errors import database_failed

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


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
        if database_failed() or current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        elif response.mimetype == "text/html":
            # Pages carry CSRF tokens; a public page that may be cached says so itself.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
