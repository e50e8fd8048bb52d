"""Simulators of systems whose every call carries the integrator's own app key beside the
customer's credential: Visma e-conomic (``X-AppSecretToken`` + ``X-AgreementGrantToken``) and
Priority under a per-application licence (``X-App-Id`` + ``X-App-Key`` beside Basic).
ServiceTitan's simulator is ``vendors_cat_cmms.FakeServiceTitan`` (its ``ST-App-Key``)."""

from __future__ import annotations

import base64
import secrets

from tests.fakes.base import FakeSystem, Reply, Request

UNAUTHORIZED = {"message": "Unauthorized access (Unauthorized).", "httpStatusCode": 401}


class FakeEconomic(FakeSystem):
    """``restapi.e-conomic.com``: a grant token belongs to the app it was granted to, so a
    call passes only with that grant and that app's secret token, as e-conomic answers (401
    otherwise). ``GET /self`` answers the agreement, ``GET /customers`` one page of them."""

    hosts = ("restapi.e-conomic.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.grants: dict[str, str] = {}  # agreement grant token → the app's secret token

    def handle(self, request: Request) -> Reply:
        app = request.headers.get("x-appsecrettoken", "")
        known = self.grants.get(request.headers.get("x-agreementgranttoken", ""))
        if known is None or not secrets.compare_digest(known, app):
            return Reply(401, UNAUTHORIZED)
        if request.method == "GET" and request.path == "/self":
            return Reply(200, {"agreementNumber": 123456, "company": {"name": "Demo A/S"}})
        if request.method == "GET" and request.path == "/customers":
            return Reply(200, {"collection": [{"customerNumber": 1, "name": "Nordvik"}]})
        return Reply(404, {"message": "Not found", "httpStatusCode": 404})


class FakePriority(FakeSystem):
    """A Priority OData service at ``priority.acme-erp.com`` (service root
    ``/odata/Priority/tabula.ini/acme``): Basic for a known user and, when ``licence`` is set
    (the company is on a per-application licence), ``X-App-Id`` / ``X-App-Key`` equal to it."""

    hosts = ("priority.acme-erp.com",)
    ROOT = "/odata/Priority/tabula.ini/acme"

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.users: dict[str, str] = {}
        self.licence: tuple[str, str] | None = None

    def handle(self, request: Request) -> Reply:
        if not self._signed_in(request):
            return Reply(401, {"error": {"message": "Unauthorized"}})
        if self.licence is not None and not self._licensed(request):
            return Reply(403, {"error": {"message": "Application license is not valid"}})
        if request.method == "GET" and request.path == f"{self.ROOT}/FAMILY_LOG":
            return Reply(200, {"@odata.context": "$metadata#FAMILY_LOG", "value": []})
        return Reply(404, {"error": {"message": "Not found"}})

    def _signed_in(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme != "Basic":
            return False
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        expected = self.users.get(user)
        return expected is not None and secrets.compare_digest(expected, password)

    def _licensed(self, request: Request) -> bool:
        app_id, app_key = self.licence or ("", "")
        sent_id = request.headers.get("x-app-id", "")
        sent_key = request.headers.get("x-app-key", "")
        return sent_id == app_id and secrets.compare_digest(sent_key, app_key)
