"""Configuration defaults, overridden by ``instance/config.py`` and then by the environment.

No secret lives here: ``SECRET_KEY`` comes from the environment or from a key generated once and
kept in the instance folder (see :func:`stallapp.load_secret_key`).
"""

import os
from datetime import timedelta


class DefaultConfig:
    SQLALCHEMY_DATABASE_URI = None  # filled in by the factory: instance/stallapp.sqlite
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    PUBLIC_BASE_URL = ""

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    #: How long a login without "remember me" stays valid on the server, at most.
    LOGIN_SESSION_LIFETIME = timedelta(hours=16)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=16)

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead: a stall day outlives an hour

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "fr")

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    #: Failed logins allowed per account (email) and per client address.
    LOGIN_LIMIT_PER_ACCOUNT = "5 per minute;20 per hour"
    #: Looser: every phone at a stall shares the venue's one address.
    LOGIN_LIMIT_PER_ADDRESS = "30 per minute;200 per hour"
    PUBLIC_FORM_LIMIT = "10 per minute;50 per hour"

    #: Number of proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    PROXY_FIX_HOPS = 0

    #: Argon2id parameters; argon2-cffi's defaults (RFC 9106 low-memory profile).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    MAIL_SERVER = ""
    MAIL_PORT = 587
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = True
    MAIL_DEFAULT_SENDER = "stallapp@localhost"

    INVITATION_LIFETIME = timedelta(days=7)
    PASSWORD_RESET_LIFETIME = timedelta(hours=1)


#: Environment variables read at start-up, with the config key each sets.
ENVIRONMENT_KEYS = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_USERNAME": "MAIL_USERNAME",
    "MAIL_PASSWORD": "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER": "MAIL_DEFAULT_SENDER",
}
INTEGER_ENVIRONMENT_KEYS = {"MAIL_PORT": "MAIL_PORT", "PROXY_FIX_HOPS": "PROXY_FIX_HOPS"}


def from_environment() -> dict:
    """Return the settings given in the environment."""
    settings: dict = {}
    for variable, key in ENVIRONMENT_KEYS.items():
        if os.environ.get(variable):
            settings[key] = os.environ[variable]
    for variable, key in INTEGER_ENVIRONMENT_KEYS.items():
        if os.environ.get(variable):
            settings[key] = int(os.environ[variable])
    url = settings.get("SQLALCHEMY_DATABASE_URI", "")
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        # Hosting platforms hand out the bare scheme; we speak psycopg 3.
        settings["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url.split("://", 1)[1]
    return settings
