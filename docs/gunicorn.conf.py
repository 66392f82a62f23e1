"""gunicorn settings for stallapp (``gunicorn --config docs/gunicorn.conf.py wsgi:app``)."""

# Behind a reverse proxy on the same machine; set PROXY_FIX_HOPS=1 in the environment file.
bind = "127.0.0.1:8000"
workers = 3
# The sale screen's sync requests are short; a stuck worker is replaced after this long.
timeout = 30
graceful_timeout = 25
# Workers are recycled now and then, so a slow leak can never take the machine.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# Proxy headers are the app's business (PROXY_FIX_HOPS, Werkzeug's ProxyFix): gunicorn itself
# must not take X-Forwarded-Proto from 127.0.0.1 (its default), or any local client could claim
# https and get the HSTS header and Secure-only behaviour over plain http.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = ""
