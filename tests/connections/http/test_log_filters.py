"""Log lines keep no bearer secret (``http/log_filters.py``): link tokens, and the OAuth
``code`` and ``state`` a provider sends back in the callback's query string."""

from __future__ import annotations

import logging

import pytest

from connections.http.log_filters import RedactTokens, redact

CODE = "SplxlOBeZQQYbYS6WxSbIA"
STATE = "af0ifjsldkjKx8Wq3mZ2"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (
            f'"GET /oauth/callback/?code={CODE}&state={STATE} HTTP/1.1" 200',
            "?code=…bIA&state=…mZ2 ",
        ),
        (f"/oauth/callback/?state={STATE}&code={CODE}&scope=read", "?state=…mZ2&code=…bIA&scope"),
        (f"/oauth/callback/?error=access_denied&state={STATE}", "?error=access_denied&state=…mZ2"),
        ("/oauth/callback/?code=ab&state=", "?code=…&state="),
    ],
)
def test_oauth_codes_and_states_in_a_request_line_are_shortened_to_a_hint(line, kept):
    assert kept in redact(line)
    assert CODE not in redact(line) and STATE not in redact(line)


def test_other_query_parameters_named_like_them_are_left_alone():
    line = "/api/v1/connections?error_code=forbidden&status=invalid&statement=1"
    assert redact(line) == line


def test_a_gunicorn_access_record_is_redacted():
    """gunicorn logs its access line as a format string with a dict of atoms."""
    atoms = {"h": "127.0.0.1", "r": f"GET /oauth/callback/?code={CODE}&state={STATE} HTTP/1.1"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, '%(h)s "%(r)s"', (), None)
    record.args = atoms  # as gunicorn's glogging.Logger.access passes them
    assert RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1 "GET /oauth/callback/?code=…bIA&state=…mZ2 HTTP/1.1"'
