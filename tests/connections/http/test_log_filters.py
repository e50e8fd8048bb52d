"""Log lines keep no bearer secret (``http/log_filters.py``): link tokens, and the OAuth
``code`` and ``state`` a provider sends back in the callback's query string — in the filter
itself, and in the access log of runserver and of gunicorn as deployed."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time

import pytest

from connections.http.log_filters import RedactTokens, redact
from tests.conftest import ROOT
from tests.stack import wait_until_up
from tests.standalone import free_port

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


# --- in a web server's access log -------------------------------------------------------------


SERVERS = {
    "runserver": [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:{port}"],
    "gunicorn": [
        *(sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"),
        *("--bind", "127.0.0.1:{port}", "config.wsgi"),
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS)
def test_link_tokens_and_oauth_codes_are_redacted_in_request_logs(server):
    from connections.security import tokens

    link_token = tokens.mint(tokens.TokenKind.LINK).value[:-1] + "0"  # no query: checksum off
    port = free_port()
    command = [part.format(port=port) for part in SERVERS[server]]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "WEB_CONCURRENCY": "1"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/connect/{link_token}/s/infoplus/")
        wait_until_up(f"http://127.0.0.1:{port}/oauth/callback/?code={CODE}&state={STATE}")
        time.sleep(0.3)  # let the access lines be written
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert f"/connect/onr_lt_…{link_token[-3:]}/s/infoplus/" in output
    assert link_token not in output
    assert "/oauth/callback/?code=…bIA&state=…mZ2" in output  # SECURITY.md rule 12
    assert CODE not in output and STATE not in output
    if server == "gunicorn":  # each line ends with the request's id, as its answer gave it
        assert re.search(
            r'"GET /connect/onr_lt_…\w{3}/s/infoplus/ HTTP/1.1" .* req_[0-9a-f]{24}', output
        )
