"""gunicorn settings: ``gunicorn -c config/gunicorn.py config.wsgi``.

The access log keeps the request line (method, path, status, size, time) but never a bearer
secret: the flow's URLs carry the link token and the OAuth callback's the provider's ``code``
and ``state``, so its lines pass through ``RedactTokens``.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
# No headers (Authorization, Cookie) and no referrer: only what is needed to debug.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
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
