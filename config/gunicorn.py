"""gunicorn settings: ``gunicorn -c config/gunicorn.py config.wsgi``.

Threaded workers (``gthread``): a proxied call waits on the customer's system for up to the
outbound deadline, and with one thread per process two such calls would hold every worker
while the flow, the API and the admin wait. Each process serves ``GUNICORN_THREADS`` requests
at once; the proxy's in-flight caps (``ONRAMP_PROXY_IN_FLIGHT_*``) keep a hanging system from
taking them all. The timeouts agree with the outbound limits: a worker is only restarted when
it stops answering its arbiter (never for one slow request), and a graceful stop waits for
the longest proxied call (a sign-in, a send and a retry after a 401).

The access log keeps the request line (method, path, status, size, time) but never a bearer
secret: the flow's URLs carry the link token and the OAuth callback's the provider's ``code``
and ``state``, so its lines pass through ``RedactTokens``.
"""

import os

_OUTBOUND_DEADLINE = float(os.environ.get("ONRAMP_OUTBOUND_DEADLINE", "25"))

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# 16, not 8: a partner's HTTP client keeps its connections alive, and they all stay with the
# process that accepted them; with 8 threads, 20 callers on one process queued behind a slow
# remote (bench/proxy.py: 245-300 ms p50 against a 100 ms remote, 120 ms with 16).
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = int(4 * _OUTBOUND_DEADLINE + 30)
graceful_timeout = int(4 * _OUTBOUND_DEADLINE + 10)
accesslog = "-"
# No headers (Authorization, Cookie) and no referrer: only what is needed to debug.
# The request's id (X-Request-Id, as answered) ties the line to the app's own log lines.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "connections.http.log_filters.RedactTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_tokens"],
            "stream": "ext://sys.stdout",
        }
    },
    "loggers": {
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
