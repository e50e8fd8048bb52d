"""One release step per deploy (``manage.py release``), run the way an operator runs it: on a
fresh copy of the repository (no compiled translations, no collected static files) with
production settings, then gunicorn serving what it prepared."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from connections.security.crypto import new_key_spec
from tests.standalone import ROOT, free_port, manage, own_env, serving

pytestmark = pytest.mark.slow
# Behind the TLS-terminating proxy production runs behind (SECURE_PROXY_SSL_HEADER).
PROXIED = {"X-Forwarded-Proto": "https"}


def checkout_copy(target: Path) -> Path:
    """The files git knows, copied as a fresh clone would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def test_a_release_on_a_fresh_checkout_serves_translated_screens_and_hashed_static(tmp_path):
    root = checkout_copy(tmp_path / "onramp")
    assert not list(root.rglob("*.mo")) and not (root / "staticfiles").exists()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = own_env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ONRAMP_ENCRYPTION_KEYS=new_key_spec("k1"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'onramp.sqlite3'}",
        ALLOWED_HOSTS="127.0.0.1",
        ONRAMP_PUBLIC_URL=url,
    )
    output = manage("release", env=env, cwd=root)
    assert "System check identified no issues" in output
    assert (root / "locale/de/LC_MESSAGES/django.mo").is_file()
    assert (root / "staticfiles/staticfiles.json").is_file()
    created = manage(
        "create_partner", "--name", "Acme", "--origin", "https://a.test", env=env, cwd=root
    )
    secret = re.search(r"(onr_sk_\w+)", created).group(1)
    gunicorn = ["-m", "gunicorn", "-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}"]
    with serving([*gunicorn, "config.wsgi"], env=env, cwd=root, url=url + "/static/connect.js"):
        made = requests.post(
            f"{url}/api/v1/link-sessions",
            json={"end_user": {"id": "u1"}},
            headers=PROXIED | {"Authorization": f"Bearer {secret}"},
            timeout=60,
        )
        assert made.status_code == 201, made.text
        screen = requests.get(
            f"{url}/connect/{made.json()['link_token']}/",
            headers=PROXIED | {"Accept-Language": "de"},
            timeout=60,
        )
        assert screen.status_code == 200 and "Welches System verwenden Sie?" in screen.text
        stylesheet = re.search(r'href="(/static/css/onramp\.[0-9a-f]{12}\.css)"', screen.text)
        assert stylesheet, "the flow's stylesheet is not the manifest's hashed name"
        css = requests.get(url + stylesheet.group(1), headers=PROXIED, timeout=60)
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
