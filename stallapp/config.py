"""Configuration defaults, overridden by ``instance/config.py`` and then by the environment.

No secret lives here: ``SECRET_KEY`` comes from the environment or from a key generated once and
kept in the instance folder (see :func:`stallapp.load_secret_key`).
"""

import os
from datetime import timedelta


class DefaultConfig:
    SQLALCHEMY_DATABASE_URI = None  # filled in by the factory: instance/stallapp.sqlite
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    #: The address people reach the site at, e.g. https://stalls.example.org: every emailed,
    #: printed or calendar link is built on it (see stallapp.urls). Required in production.
    PUBLIC_BASE_URL = ""
    #: Host names the app answers to; None: PUBLIC_BASE_URL's host (set by the factory).
    TRUSTED_HOSTS = None

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    #: How long a login without "remember me" stays valid on the server, at most.
    LOGIN_SESSION_LIFETIME = timedelta(hours=16)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=16)

    #: Largest request body (1 MiB): the biggest form is a few KB and a full sync batch about
    #: 80 KB; more is refused with 413 before it is read into memory.
    MAX_CONTENT_LENGTH = 1024 * 1024

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead: a stall day outlives an hour

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "fr", "it")

    RATELIMIT_STORAGE_URI = "memory://"
    #: Said explicitly: Flask-Limiter keeps the last app's setting as the default for the next app
    #: it is given (one extension object), so an app that switched limits off would leave them
    #: off for every app created after it in the same process.
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = False
    #: Failed logins allowed for one account from one client address (then 429 for that pair).
    LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS = "5 per minute;20 per hour"
    #: Failed logins allowed from one address for all accounts; looser, because every phone at
    #: a stall shares the venue's one address.
    LOGIN_LIMIT_PER_ADDRESS = "30 per minute;200 per hour"
    #: Failures for one account from all addresses only slow its logins down, never refuse
    #: them (anyone could lock the owner out otherwise): after this many failures in the
    #: window, each login waits 0.25 s, doubling with each further failure up to the maximum.
    LOGIN_SLOWDOWN_FREE_FAILURES = 5
    LOGIN_SLOWDOWN_MAX_SECONDS = 2.0
    LOGIN_SLOWDOWN_WINDOW_MINUTES = 15
    #: Seconds of slow-down pauses the whole site may spend per minute, across all accounts. A
    #: pause holds a worker; beyond this budget logins are checked at once (the hard limits and
    #: Argon2 still apply), so guessing from many addresses cannot tie up every worker.
    LOGIN_PAUSE_BUDGET_SECONDS_PER_MINUTE = 20
    PUBLIC_FORM_LIMIT = "10 per minute;50 per hour"

    #: Number of proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    PROXY_FIX_HOPS = 0

    #: Argon2id parameters; argon2-cffi's defaults (RFC 9106 low-memory profile).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    #: The SMTP server the worker (``flask deliver-mail``) hands mail to. Empty: mail is printed
    #: to the worker's terminal instead (development).
    MAIL_SERVER = ""
    MAIL_PORT = 587
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    #: STARTTLS after connecting (port 587). A plain relay on port 25 of the same host needs
    #: MAIL_USE_TLS=false; implicit TLS (port 465) is MAIL_USE_SSL=true instead.
    MAIL_USE_TLS = True
    MAIL_USE_SSL = False
    #: A CA certificate file to trust for the mail server's TLS (a private relay); empty: the
    #: system's certificate authorities.
    MAIL_CA_FILE = ""
    MAIL_DEFAULT_SENDER = "stallapp@localhost"
    #: Seconds to wait for the mail server before counting the attempt as failed.
    MAIL_TIMEOUT = 20
    #: Announcement emails handed to the mail server per minute, at most (other mail never waits).
    MAIL_RATE_PER_MINUTE = 60
    #: The first retry waits this long, each next one twice as long, up to MAIL_RETRY_MAX.
    MAIL_RETRY_FIRST = timedelta(minutes=1)
    MAIL_RETRY_MAX = timedelta(hours=1)
    #: A message still failing this long after it was written is given up (shown to admins).
    MAIL_GIVE_UP_AFTER = timedelta(days=1)
    #: How long a worker may hold a message it is sending before another worker takes it over
    #: (the first one died): longer than a whole batch can take with MAIL_TIMEOUT.
    MAIL_SEND_LEASE = timedelta(minutes=10)
    #: Sent and given-up messages are deleted this long after (by ``purge-expired``).
    MAIL_KEEP_SENT = timedelta(days=30)
    #: Deliver mail inside the web process by printing it to its terminal, after each request:
    #: for ``make run`` (which sets it) without MAIL_SERVER. Debug mode turns it on as well.
    MAIL_TO_TERMINAL = False

    INVITATION_LIFETIME = timedelta(days=7)
    PASSWORD_RESET_LIFETIME = timedelta(hours=1)
    #: Reset emails to one address: at most one per interval and this many an hour; requests
    #: beyond get the same answer page and no email.
    PASSWORD_RESET_EMAIL_INTERVAL = timedelta(minutes=5)
    PASSWORD_RESET_EMAILS_PER_HOUR = 3


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
    "MAIL_CA_FILE": "MAIL_CA_FILE",
}
INTEGER_ENVIRONMENT_KEYS = {
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_TIMEOUT": "MAIL_TIMEOUT",
    "MAIL_RATE_PER_MINUTE": "MAIL_RATE_PER_MINUTE",
    "PROXY_FIX_HOPS": "PROXY_FIX_HOPS",
    # Seconds a public answer is kept for readers without a cookie (stallapp.public_cache).
    "PUBLIC_CACHE_SECONDS": "PUBLIC_CACHE_SECONDS",
}
BOOLEAN_ENVIRONMENT_KEYS = {
    "MAIL_USE_TLS": "MAIL_USE_TLS",
    "MAIL_USE_SSL": "MAIL_USE_SSL",
    "MAIL_TO_TERMINAL": "MAIL_TO_TERMINAL",
}
#: Durations given in the environment in seconds (``MAIL_GIVE_UP_AFTER=86400``).
DURATION_ENVIRONMENT_KEYS = {
    "MAIL_RETRY_FIRST": "MAIL_RETRY_FIRST",
    "MAIL_RETRY_MAX": "MAIL_RETRY_MAX",
    "MAIL_GIVE_UP_AFTER": "MAIL_GIVE_UP_AFTER",
    "MAIL_SEND_LEASE": "MAIL_SEND_LEASE",
    "MAIL_KEEP_SENT": "MAIL_KEEP_SENT",
}
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def parse_boolean(variable: str, value: str) -> bool:
    """Read an on/off environment variable; anything unclear stops the start-up.

    :raises ValueError: naming the variable, when ``value`` is neither true nor false.
    """
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{variable}={value!r}: use true or false (or 1/0, yes/no, on/off)")


def from_environment() -> dict:
    """Return the settings given in the environment."""
    settings: dict = {}
    for variable, key in ENVIRONMENT_KEYS.items():
        if os.environ.get(variable):
            settings[key] = os.environ[variable]
    for variable, key in INTEGER_ENVIRONMENT_KEYS.items():
        if os.environ.get(variable):
            settings[key] = int(os.environ[variable])
    for variable, key in BOOLEAN_ENVIRONMENT_KEYS.items():
        if os.environ.get(variable):
            settings[key] = parse_boolean(variable, os.environ[variable])
    for variable, key in DURATION_ENVIRONMENT_KEYS.items():
        if os.environ.get(variable):
            settings[key] = timedelta(seconds=int(os.environ[variable]))
    if os.environ.get("TRUSTED_HOSTS"):
        # Comma-separated; a name starting with a dot also accepts its subdomains.
        hosts = [host.strip() for host in os.environ["TRUSTED_HOSTS"].split(",")]
        settings["TRUSTED_HOSTS"] = [host for host in hosts if host]
    url = settings.get("SQLALCHEMY_DATABASE_URI", "")
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        # Hosting platforms hand out the bare scheme; we speak psycopg 3.
        settings["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url.split("://", 1)[1]
    return settings
