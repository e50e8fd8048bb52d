"""The address policy (``outbound/addresses.py``): every special-purpose prefix, look-alike and
reserved names refused before any lookup; public addresses and international names pass."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from connections.outbound import client as outbound
from connections.outbound.addresses import NOT_GLOBAL
from connections.outbound.errors import OutboundError


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
