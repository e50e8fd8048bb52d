"""Keep bearer secrets out of logs: tokens in request lines are shortened to a hint.

The flow's URL carries its link token (``/connect/onr_lt_…/``), so every access log line
would otherwise hold a credential. ``RedactTokens`` rewrites any Onramp token in a record to
its prefix and last three characters (``onr_lt_…3xQ``): enough to tell two apart, useless
to replay. It is attached to every handler (settings) and to gunicorn's access log
(``config/gunicorn.py``).
"""

from __future__ import annotations

import logging
import re

TOKEN = re.compile(r"\b(onr_(?:sk_live|sk_test|[a-z]{2})_)[A-Za-z0-9]+([A-Za-z0-9]{3})\b")


def redact(text: str) -> str:
    return TOKEN.sub(r"\1…\2", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
