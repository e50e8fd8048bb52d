"""What both NetSuite schemes share: endpoints, the clock, and reading NetSuite's errors.

NetSuite answers REST errors as ``{"title", "status", "o:errorDetails": [{"detail",
"o:errorCode"}]}``; the precise reason for a refused login is only in its Login Audit Trail.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from connections.outbound.client import OutboundResponse
from connections.schemes.base import Interpretation

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 (a path, not a secret)
MAX_CLOCK_SKEW = 120  # seconds between NetSuite's Date header and our clock
_PERMISSION = re.compile(r"need the '([^']+)' permission", re.IGNORECASE)
_MISSING_RECORD = re.compile(r"Record '([^']+)' was not found", re.IGNORECASE)


def _now() -> float:
    """Our clock (a seam for tests that need it wrong)."""
    return time.time()


def clock_skewed(response: OutboundResponse) -> bool:
    """True when NetSuite's clock and ours disagree by more than signatures tolerate."""
    try:
        theirs = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return False
    ours = datetime.fromtimestamp(_now(), UTC)
    return abs((theirs - ours).total_seconds()) > MAX_CLOCK_SKEW


def error_details(response: OutboundResponse) -> tuple[str, str]:
    """NetSuite's first ``o:errorCode`` and its ``detail`` (empty when absent)."""
    try:
        details = response.json().get("o:errorDetails") or [{}]
        first = details[0] if isinstance(details[0], dict) else {}
    except (ValueError, AttributeError, IndexError):
        return "", ""
    return str(first.get("o:errorCode", "")), " ".join(str(first.get("detail", "")).split())


def interpret(response: OutboundResponse) -> Interpretation | None:
    """Read a REST/SuiteQL error: a refused login, a named permission, an unseen record."""
    _, detail = error_details(response)
    if response.status == 401:
        failure = "clock_skew" if clock_skewed(response) else "invalid_credentials"
        return Interpretation(failure, detail[:200])
    if permission := _PERMISSION.search(detail):
        return Interpretation("forbidden", detail[:200], permission.group(1))
    if response.status == 403:
        return Interpretation("forbidden", detail[:200])
    if response.status == 400 and _MISSING_RECORD.search(detail):
        # SuiteQL hides records the role may not view: a permission problem, not a typo.
        return Interpretation("forbidden", detail[:200])
    return None
