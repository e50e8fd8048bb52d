"""Keep bearer secrets out of logs: tokens in request lines are shortened to a hint.

The flow's URL carries its link token (``/connect/onr_lt_…/``), and the OAuth callback's the
provider's ``code`` and ``state`` (``/oauth/callback/?code=…&state=…``), so access log lines
would otherwise hold credentials (SECURITY.md rule 12). ``RedactTokens`` rewrites any Onramp
token in a record to its prefix and last three characters (``onr_lt_…3xQ``), and the value
of a ``code`` or ``state`` query parameter to its last three (``code=…bIA``): enough to tell
two apart, useless to replay. It is attached to every handler (settings) and to gunicorn's
access log (``config/gunicorn.py``).
"""

from __future__ import annotations

import logging
import re

TOKEN = re.compile(r"\b(onr_(?:sk_live|sk_test|[a-z]{2})_)[A-Za-z0-9]+([A-Za-z0-9]{3})\b")
# A query parameter named exactly ``code`` or ``state``, up to the next parameter or the end.
OAUTH_PARAMETER = re.compile(r"([?&](?:code|state)=)([^&#\s\"']*)")
HINT_AFTER = 6  # shorter values are dropped entirely: their last three would be half of them


def redact(text: str) -> str:
    return OAUTH_PARAMETER.sub(_hint, TOKEN.sub(r"\1…\2", text))


def _hint(match: re.Match[str]) -> str:
    name, value = match[1], match[2]
    if not value:
        return name
    return name + "…" + (value[-3:] if len(value) > HINT_AFTER else "")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
