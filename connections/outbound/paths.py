"""Whether a relative path stays under the base URL it is appended to (SECURITY.md rule 9).

The proxy appends a partner's path to a connection's base URL, and the far end may read it
differently from us: requests turns ``%2e`` into ``.`` and urllib3 then resolves dot
segments; Tomcat and Spring drop a segment's ``;parameters`` (``..;`` is ``..`` to them);
some servers decode twice, accept overlong UTF-8 (``%c0%ae`` as ``.``), or fold Unicode
(NFKC: the fullwidth full stop U+FF0E and the one dot leader U+2024 become ``.``; CJK
software reads the ideographic full stop U+3002 as one).
So every reading of the path is checked: as given, and after each further percent-decoding,
each folded the way such servers fold it. No I/O: a rule the proxy applies before sending.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote_to_bytes

# A path still changing after this many decodings is refused rather than decoded further.
MAX_DECODINGS = 4
# Overlong UTF-8: a code point encoded in more bytes than it needs (never valid UTF-8, but
# lenient decoders read ``C0 AE`` as ``.`` and ``C0 AF`` as ``/``).
OVERLONG = re.compile(rb"[\xc0\xc1][\x80-\xbf]|\xe0[\x80-\x9f]|\xf0[\x80-\x8f]")
# Full stops that NFKC leaves alone but that CJK-aware software treats as ".".
IDEOGRAPHIC_FULL_STOP = "\u3002"  # U+FF61 and U+FE12 fold to it under NFKC


def path_stays_under(path: str) -> bool:
    """True if ``path`` (as the web server hands it over: decoded once) cannot climb out of,
    or step beside, the base URL's path however the remote decodes and normalises it."""
    readings = _readings(path)
    return readings is not None and all(_harmless(_folded(text)) for text in readings)


def _readings(path: str) -> list[str] | None:
    """``path`` and each further percent-decoding of it until nothing changes; None if one
    hides overlong UTF-8 or the path is still changing after ``MAX_DECODINGS``."""
    readings = [path]
    for _ in range(MAX_DECODINGS):
        raw = unquote_to_bytes(readings[-1])
        if OVERLONG.search(raw):
            return None
        decoded = raw.decode("utf-8", errors="replace")
        if decoded == readings[-1]:
            return readings
        readings.append(decoded)
    return None


def _folded(text: str) -> str:
    """``text`` as a Unicode-normalising server sees it: look-alike dots, slashes and at
    signs (fullwidth, leaders, small forms) become their ASCII selves."""
    return unicodedata.normalize("NFKC", text).replace(IDEOGRAPHIC_FULL_STOP, ".")


def _harmless(text: str) -> bool:
    segments = text.split("/")
    return not (
        text.startswith("/")  # base + "/" + "/host" is a network-path reference
        or "://" in text
        or any(c in text for c in "@\\")
        or any(ord(c) < 0x20 or c == "\x7f" for c in text)
        or ";" in segments[0]  # a server that drops ";x" routes on what we never checked
        or any(_climbs(segment) for segment in segments)
    )


def _climbs(segment: str) -> bool:
    """``..`` in any guise (``..;x``, ``...``), or ``.`` once its parameters are dropped."""
    return segment.startswith("..") or segment.split(";", 1)[0] == "."
