"""What may cross Onramp's boundaries: addresses it connects to, origins that frame it, URLs
it redirects to, secrets on admin pages, public tokens handed out, tokens in access logs."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from connections.models import LinkSession, Partner, PartnerKey
from connections.outbound import client as outbound
from connections.outbound.addresses import NOT_GLOBAL
from connections.outbound.errors import OutboundError
from tests.conftest import ROOT
from tests.factories import link_session, validated_session
from tests.stack import wait_until_up

# --- 6. address policy ------------------------------------------------------------------------


def addresses_in(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """The first, a middle and the last address of a prefix."""
    middle = network.network_address + network.num_addresses // 2
    return [str(a) for a in (network.network_address, middle, network.broadcast_address)]


@pytest.mark.parametrize("network", NOT_GLOBAL, ids=str)
def test_every_special_purpose_prefix_is_refused(network):
    for address in addresses_in(network):
        host = f"[{address}]" if ":" in address else address
        with pytest.raises(OutboundError) as refused:
            outbound.request("GET", f"https://{host}/")
        assert refused.value.code == "forbidden_address", address


@pytest.mark.parametrize(
    "url",
    [
        "https://[::ffff:0:7f00:1]/",  # SIIT: 127.0.0.1 through a translator
        "https://[::ffff:8.8.8.8]/",  # IPv4-mapped, even of a public address
        "https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
        "https://localhost。/",
        "https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/",  # fullwidth
        "https://api.localhost/",
        "https://printer.local/",
        "https://db.internal/",
    ],
)
def test_lookalike_and_reserved_names_are_refused_by_policy_before_any_lookup(url, monkeypatch):
    looked_up = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: looked_up.append(a) or [])
    with pytest.raises(OutboundError) as refused:
        outbound.request("GET", url)
    assert refused.value.code == "forbidden_address"
    assert looked_up == []


def test_public_addresses_and_international_names_pass_the_policy():
    assert outbound.check_url("https://8.8.8.8/").hostname == "8.8.8.8"
    assert outbound.check_url("https://[2606:4700::1111]/x").hostname == "2606:4700::1111"
    assert outbound.check_url("https://Bücher.Example/").hostname == "xn--bcher-kva.example"


# --- 7. partner origins and redirect URLs --------------------------------------------------


BAD_ORIGINS = [
    "* 'unsafe-inline'",
    "https://app.example.com 'unsafe-inline'",
    "https://*.example.com",
    "https://app.example.com/path",
    "https://user@app.example.com",
    "http://app.example.com",
    "javascript:alert(1)",
    "https://app.example.com;script-src *",
]


ADD_PARTNER = "/admin/connections/partner/add/"


def partner_form(**overrides) -> dict:
    return {
        "name": "Acme",
        "primary_colour": "#4f46e5",
        "allowed_origins": "https://app.acme.test",
        "is_active": "on",
        "keys-TOTAL_FORMS": "0",
        "keys-INITIAL_FORMS": "0",
        **overrides,
    }


@pytest.mark.parametrize("origin", BAD_ORIGINS)
def test_the_admin_refuses_what_is_not_an_exact_origin(operator, origin):
    admin = operator()
    response = admin.post("/admin/connections/partner/add/", partner_form(allowed_origins=origin))
    assert response.status_code == 200  # the form again, with the error
    assert "is not an origin" in response.content.decode()
    assert not Partner.objects.exists()


def test_the_admin_stores_origins_normalised(operator):
    admin = operator()
    origins = "HTTPS://App.Acme.test:443\nhttps://admin.acme.test\n\nhttps://admin.acme.test"
    response = admin.post("/admin/connections/partner/add/", partner_form(allowed_origins=origins))
    assert response.status_code == 302
    assert Partner.objects.get().allowed_origins == [
        "https://app.acme.test",  # as browsers write it (event.origin has no :443)
        "https://admin.acme.test",
    ]


@pytest.mark.parametrize("origin", BAD_ORIGINS)
def test_create_partner_and_the_api_refuse_bad_origins(db, api, origin):
    with pytest.raises(Exception, match="is not an origin"):
        call_command("create_partner", "--name", "X", "--origin", origin)
    body = {"end_user": {"id": "u"}, "allowed_origin": origin}
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code == 400


def test_plain_http_localhost_origins_only_when_allowed(db, settings):
    from connections.services.partners import origin_normalize

    assert origin_normalize("http://localhost:3000") == "http://localhost:3000"
    settings.ONRAMP_ALLOW_HTTP_LOCALHOST = False
    with pytest.raises(Exception, match="is not an origin"):
        origin_normalize("http://localhost:3000")


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost@evil.example/",
        "http://127.0.0.1.evil.example/x",
        "https://app.acme.test.evil.example/",
        "https://app.acme.test@evil.example/",
        "https://app.acme.test:8443/",
        "http://app.acme.test/",
        "javascript://app.acme.test/%0aalert(1)",
        "https://evil.example/?https://app.acme.test/",
    ],
)
def test_redirect_urls_must_be_on_an_allowed_origin_exactly(api, url):
    body = {"end_user": {"id": "u"}, "redirect_url": url}
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code == 400, url
    assert response.json()["error"]["code"] in ("invalid_redirect_url", "redirect_url_not_allowed")


def test_a_redirect_url_on_the_partners_origin_is_kept(api):
    url = "https://app.acme.test/integrations/done?tab=erp"
    body = {"end_user": {"id": "u"}, "redirect_url": url}
    created = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert created.status_code == 201
    assert LinkSession.objects.get(pk=created.json()["id"]).redirect_url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://app.acme.test/done\r\nSet-Cookie: session=stolen",
        "https://app.acme.test/done\n",
        "https://app.acme.test/done\rx",
        "https://app.acme.test/done%0d%0aSet-Cookie:%20session=stolen",
        "https://app.acme.test/done?next=%0A",
        "https://app.acme.test/done#%0D",
    ],
)
def test_a_redirect_url_with_a_line_break_is_refused_clearly(api, url):
    """CR or LF, raw or percent-encoded, could split the Location header it ends up in."""
    body = {"end_user": {"id": "u"}, "redirect_url": url}
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code == 422, url
    error = response.json()["error"]
    assert error["code"] == "invalid_redirect_url" and "line break" in error["message"]
    assert not LinkSession.objects.exists()


# --- 8. a new partner key is shown once, never in a cookie ----------------------------------


def test_a_new_key_is_shown_once_on_the_page_and_never_put_in_a_cookie(operator, acme):
    admin = operator()
    response = admin.post(
        "/admin/connections/partner/",
        {"action": "create_key", "_selected_action": [acme.partner.pk]},
    )
    page = response.content.decode()
    secret = re.search(r"onr_sk_live_[A-Za-z0-9]+", page).group(0)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    assert secret not in response.get("Location", "")
    assert secret not in admin.get("/admin/connections/partner/").content.decode()
    assert PartnerKey.objects.filter(partner=acme.partner, label="admin").exists()
    key_works = Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/connections")
    assert key_works.status_code == 200


# --- 9. one public token per session, read without side effects -----------------------------


def test_reading_a_session_returns_the_same_public_token_as_the_done_screen(acme, api):
    session = validated_session(acme.partner)
    first = api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"]
    second = api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"]
    assert first and first == second
    open_session, _ = link_session(acme.partner)  # not validated: no token
    assert api.get(f"/api/v1/link-sessions/{open_session.id}").json()["public_token"] is None
    exchanged = api.post(
        "/api/v1/token-exchange", {"public_token": first}, content_type="application/json"
    )
    assert exchanged.status_code == 200
    assert api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"] is None


def test_the_token_the_iframe_sent_survives_the_partner_reading_the_session(acme, api):
    session = validated_session(acme.partner)
    done = LinkSession.objects.get(pk=session.pk)
    from connections.services.link_sessions import link_session_complete

    iframe_token = link_session_complete(session=done)
    api.get(f"/api/v1/link-sessions/{session.id}")
    exchanged = api.post(
        "/api/v1/token-exchange", {"public_token": iframe_token}, content_type="application/json"
    )
    assert exchanged.status_code == 200


def test_no_public_token_is_minted_after_the_link_expired(acme, api):
    session = validated_session(acme.partner)
    past = timezone.now() - timedelta(seconds=1)
    LinkSession.objects.filter(pk=session.pk).update(expires_at=past, public_token_expires_at=past)
    assert api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"] is None
    token = _flow_token_for(session)
    done = Client().get(f"/connect/{token}/done/")
    assert done.status_code == 410 and "data-public-token" not in done.content.decode()
    assert LinkSession.objects.get(pk=session.pk).public_token_expires_at == past


def _flow_token_for(session: LinkSession) -> str:
    """Give a session a known link token (the real one was shown once, to its partner)."""
    from connections.security import tokens

    minted = tokens.mint(tokens.TokenKind.LINK)
    LinkSession.objects.filter(pk=session.pk).update(token_digest=minted.digest)
    return minted.value


# --- 10. link tokens, OAuth codes and states never reach the access log --------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVERS = {
    "runserver": [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:{port}"],
    "gunicorn": [
        *(sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"),
        *("--bind", "127.0.0.1:{port}", "config.wsgi"),
    ],
}


CODE, STATE = "SplxlOBeZQQYbYS6WxSbIA", "af0ifjsldkjKx8Wq3mZ2"  # as a provider sends back


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


def test_an_origin_is_written_as_browsers_write_it():
    from connections.services.partners import origin_normalize

    assert origin_normalize("https://App.Example.com:443") == "https://app.example.com"
    assert origin_normalize("https://app.example.com:8443") == "https://app.example.com:8443"
