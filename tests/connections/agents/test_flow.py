"""The end user's side: a private instance address of an on-premises system leads to the
agent screen; everything else keeps the plain refusal."""

from __future__ import annotations

import socket

import pytest

from connections.agents.models import AgentPairing
from connections.agents.services import pairing_code

pytestmark = pytest.mark.django_db
DETAILS = "s/erpnext-on-premises/api_key/details/"


@pytest.fixture(autouse=True)
def _no_public_dns(monkeypatch):
    """Names of the customer's network are unknown to public DNS (as here, offline)."""

    def unknown(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)


def details(site: str) -> dict[str, str]:
    return {"site": site, "api_key": "k1", "api_secret": "s3cr3t"}


@pytest.mark.parametrize(
    "site", ["https://erp.acme-corp.test:8443", "https://10.1.2.3", "https://erp.acme.local"]
)
def test_a_private_instance_leads_to_the_agent_screen_with_code_and_steps(end_user, site):
    user = end_user()

    submitted = user.submit(DETAILS, details(site))

    assert submitted.status_code == 303 and submitted["Location"].endswith("/agent/")
    page = user.get("agent/").content.decode()
    pairing = AgentPairing.objects.get(link_session=user.session)
    assert pairing_code(pairing) in page
    assert "systemd" in page and "nssm install" in page and "mailto:" in page
    assert "s3cr3t" not in page


@pytest.mark.parametrize(
    "site",
    ["https://127.0.0.1", "https://169.254.169.254", "https://localhost", "http://10.1.2.3"],
)
def test_what_is_no_plausible_instance_keeps_the_plain_refusal(end_user, site):
    user = end_user()

    refused = user.submit(DETAILS, details(site))

    assert refused.status_code == 422
    assert not AgentPairing.objects.exists()


def test_a_system_not_installed_on_premises_keeps_the_refusal(end_user):
    user = end_user()

    refused = user.submit("s/erpnext/api_key/details/", details("https://10.1.2.3"))

    assert refused.status_code == 422
    assert "private or reserved" in refused.content.decode()


def test_the_agent_screen_polls_until_the_agent_is_ready(end_user):
    user = end_user()
    user.submit(DETAILS, details("https://erp.acme-corp.test:8443"))

    status = user.get("agent/status/", htmx=True).content.decode()

    assert "hx-get" in status and "Confirm and connect" not in status


def test_the_install_page_for_it_is_public(client):
    page = client.get("/agent/install/").content.decode()
    assert "onramp-agent.py" in page and "nssm install" in page
