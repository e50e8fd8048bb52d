"""Local simulators of the remote systems Onramp talks to, each a real HTTP server that
checks what its real system checks.

``FAKES`` lists them by name. To add one: write ``tests/fakes/<name>.py`` with a
``FakeSystem`` subclass that declares ``hosts`` (the host patterns of the real system) and
extends ``reset()``, then add a line here. The test session starts each once; every test that
uses ``fake_systems`` gets them reset and reachable through the outbound host map.
A simulator that checks more than its system's happy path has its own tests beside it
(``test_oauth.py``, ``test_ion.py``).
"""

from __future__ import annotations

from tests.fakes.base import FakeSystem
from tests.fakes.infoplus import FakeInfoplus
from tests.fakes.instances import FakeERPNext, FakeOdoo, FakeSAPBusinessOne
from tests.fakes.ion import FakeIonGateway
from tests.fakes.maintainx import FakeMaintainX
from tests.fakes.mintsoft import FakeMintsoft
from tests.fakes.netsuite import FakeNetSuite
from tests.fakes.ntlm import FakeBusinessCentralWindows
from tests.fakes.oauth import FakeAuthorizationServer
from tests.fakes.receiver import FakeReceiver
from tests.fakes.unleashed import FakeUnleashed
from tests.fakes.vendors import FakeExtensiv, FakeFormLogin, FakeLinnworks, FakeVeeqo

FAKES: dict[str, type[FakeSystem]] = {
    "infoplus": FakeInfoplus,
    "mintsoft": FakeMintsoft,
    "netsuite": FakeNetSuite,
    "receiver": FakeReceiver,
    "ion": FakeIonGateway,
    "oauth": FakeAuthorizationServer,
    "odoo": FakeOdoo,
    "erpnext": FakeERPNext,
    "sap_b1": FakeSAPBusinessOne,
    "unleashed": FakeUnleashed,
    "maintainx": FakeMaintainX,
    "extensiv": FakeExtensiv,
    "veeqo": FakeVeeqo,
    "linnworks": FakeLinnworks,
    "form_login": FakeFormLogin,
    "bc_windows": FakeBusinessCentralWindows,
}


class RunningFakes:
    """The started simulators, by name (``fakes.netsuite``)."""

    def __init__(self) -> None:
        self.running = {name: fake().start() for name, fake in FAKES.items()}

    def __getattr__(self, name: str) -> FakeSystem:
        try:
            return self.running[name]
        except KeyError:
            raise AttributeError(name) from None

    def all(self) -> tuple[FakeSystem, ...]:
        return tuple(self.running.values())

    def host_map(self) -> str:
        return ",".join(
            f"{host}={fake.url}" for fake in self.running.values() for host in fake.hosts
        )

    def reset(self) -> None:
        for fake in self.running.values():
            fake.reset()

    def stop(self) -> None:
        for fake in self.running.values():
            fake.stop()
