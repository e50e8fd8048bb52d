"""Infor ION API Gateway and its SSO token endpoint, for a ``.ionapi`` credentials file.

A ``.ionapi`` file names the tenant (``ti``), the client (``cn``, ``ci``, ``cs``), the gateway
base URL (``iu``), the SSO base URL (``pu``) with its endpoint names (``oa``, ``ot``, ``or``) and
a service account's access / secret keys (``saak``, ``sask``). ``make_ionapi`` returns such a
file and registers it.

On the SSO host (``mingle-sso.inforcloudsuite.com``) ``POST {pu}{ot}`` takes the resource owner
password grant — ``username=<saak>``, ``password=<sask>`` — with the client authenticated by
HTTP Basic or by form fields (not both), and ``POST {pu}{or}`` revokes a token. On the gateway
host (``mingle-ionapi.inforcloudsuite.com``) every ``{iu}/{ti}/...`` call needs a live Bearer
token issued for that same tenant; SX.e answers only if the service account maps to an SX.e
operator (``sx_operators``) and, like SX.e, reports a bad company number inside a 200 answer
(``cErrorMessage``).

The SX.e warehouse list answers ``{"response": {"cErrorMessage": "", "tCodeLst":
{"t-codeLst": [{"codeValue", "codeDesc", "extraData", "sortFld"}]}}}``: that is the shape in
the Swagger definition a CloudSuite Distribution tenant publishes for
``sxapiicgetwarehouselist`` (request: ``{"request": {"companyNumber", "operatorInit",
"operatorPassword", "sort"}}``).

SX.e's lists, from the same Swagger (as published by a CSD tenant; a copy:
github.com/everyonelovesromannoodles/vossionswagger, docs/Model): ``sxapipogetlistofpurchase
ordersv3`` (request ``beginningPurchaseOrderNumber``, ``recordLimit``…; answer
``{"response": {"cErrorMessage", "moreRecordsFlag", "tPolistv3": {"t-polistv3": [{pono,
posuf, vendno, vendname, whse, stagecd, orderdt, duedt, reqshipdt, …}]}}}``),
``sxapiapgetvendorlist`` (``vendorNumber``, ``recordLimit`` → ``tVendlst``/``t-vendlst``) and
``sxapiicgetproductlist`` (``productCode``, ``recordLimit`` → ``moreRecordsAvailable``,
``tProd``/``t-prod``). Here each lists from its starting key (inclusive) in key order: what
those starting fields mean is not documented (unverified). ``sxapipogetsinglepurchaseorderv2``
(``purchaseOrderNumber``, ``purchaseOrderSuffix``, ``includeLineData`` → ``tPolineitemv2``/
``t-polineitemv2``: lineno, shipprod, proddesc, qtyord, unit, price, netamt, duedt, …)
answers one order's lines. ``throttle`` answers the next that
many list calls 429 with Retry-After, as the ION API Gateway does over its limits.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.base import FakeSystem, Reply, Request
from tests.fakes.oauth import (
    NO_STORE,
    OAuthError,
    client_credentials,
    invalid_client,
    invalid_grant,
    invalid_request,
    read_form,
)

SSO_HOST = "mingle-sso.inforcloudsuite.com"
API_HOST = "mingle-ionapi.inforcloudsuite.com"
USERS_ME = "ifsservice/usermgt/v2/users/me"
SX_WAREHOUSES = "SX/rest/sxapirestservice/sxapiicgetwarehouselist"
SX_REST = "SX/rest/sxapirestservice/"
# list → (rows attribute, starting key in the request, key in a row, flag, table, rows key)
SX_LISTS = {
    "sxapipogetlistofpurchaseordersv3": (
        "sx_purchase_orders",
        "beginningPurchaseOrderNumber",
        "pono",
        "moreRecordsFlag",
        "tPolistv3",
        "t-polistv3",
    ),
    "sxapiapgetvendorlist": (
        "sx_vendors",
        "vendorNumber",
        "vendno",
        "moreRecordsFlag",
        "tVendlst",
        "t-vendlst",
    ),
    "sxapiicgetproductlist": (
        "sx_products",
        "productCode",
        "prod",
        "moreRecordsAvailable",
        "tProd",
        "t-prod",
    ),
}
SX_SINGLE_PO = "sxapipogetsinglepurchaseorderv2"
ACCESS_LIFETIME = 7200  # ION's default: two hours
NOT_FOUND = Reply(404, {"message": "Not Found"})


@dataclass
class IonToken:
    client_id: str
    saak: str
    tenant: str
    expires_at: float
    revoked: bool = False


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class FakeIonGateway(FakeSystem):
    hosts = (SSO_HOST, API_HOST)

    """Checks the client (``ci``/``cs`` of a file for the tenant in the token URL, by Basic or
    form, recorded in ``auth_methods_seen``), the grant type (password only), the service
    account keys, Bearer tokens (live, not revoked, same tenant as the URL) and the SX.e
    operator mapping. Tells the SSO and gateway hosts apart by the ``Host`` header."""

    def __init__(self) -> None:
        super().__init__()
        self._clear()

    def _clear(self) -> None:
        self.files: dict[str, dict[str, str]] = {}  # ci → the registered .ionapi contents
        self.users: dict[str, dict[str, str]] = {}  # saak → {"id", "displayName"}
        self.tokens: dict[str, IonToken] = {}
        self.sx_operators: set[str] = set()  # saak values mapped to an SX.e operator
        self.sx_companies: set[int] = {1}
        self.warehouses: dict[str, str] = {"MAIN": "Main Warehouse", "EAST": "East Branch"}
        self.sx_purchase_orders: list[dict[str, Any]] = []
        self.sx_vendors: list[dict[str, Any]] = []
        self.sx_products: list[dict[str, Any]] = []
        self.sx_po_lines: dict[tuple[int, int], list[dict[str, Any]]] = {}  # (pono, posuf)
        self.throttle = 0  # the next this many SX.e list calls answer 429
        self.auth_methods_seen: list[str] = []
        self.access_lifetime = ACCESS_LIFETIME
        self.now: Callable[[], float] = time.time

    def reset(self) -> None:
        """Forget every file, token and mapping, restore the defaults and the real clock."""
        super().reset()
        self._clear()

    def make_ionapi(self, tenant: str = "ACME_TST", **overrides: str) -> dict[str, str]:
        """A realistic ``.ionapi`` dict, registered here; a copy is returned, so a test may
        tamper with it without changing what the fake accepts."""
        data = {
            "ti": tenant,
            "cn": "Onramp",
            "dt": "12",
            "ci": f"{tenant}~{secrets.token_urlsafe(32)}",
            "cs": secrets.token_urlsafe(64),
            "iu": f"https://{API_HOST}",
            "pu": f"https://{SSO_HOST}:443/{tenant}/as/",
            "oa": "authorization.oauth2",
            "ot": "token.oauth2",
            "or": "revoke_token.oauth2",
            "ev": f"U{secrets.randbelow(10**10):010d}",
            "v": "1.0",
            "saak": f"{tenant}#{secrets.token_urlsafe(48)}",
            "sask": secrets.token_urlsafe(64),
            **overrides,
        }
        self.files[data["ci"]] = data
        self.users.setdefault(
            data["saak"], {"id": str(uuid.uuid4()), "displayName": f"{data['cn']} Service"}
        )
        return dict(data)

    def handle(self, request: Request) -> Reply:
        try:
            if any(_host(f["pu"]) == request.host for f in self.files.values()):
                return self._sso(request)
            if any(_host(f["iu"]) == request.host for f in self.files.values()):
                return self._gateway(request)
        except OAuthError as refused:
            return refused.reply
        return NOT_FOUND

    # --- SSO: token and revocation ------------------------------------------------------------

    def _sso(self, request: Request) -> Reply:
        endpoint = self._sso_endpoint(request)
        if endpoint is None or request.method != "POST":
            return NOT_FOUND
        kind, file = endpoint
        form = read_form(request)
        client = self._authenticate(request, form, file)
        if kind == "token":
            return self._password_grant(client, form)
        return self._revoke(client, form)

    def _sso_endpoint(self, request: Request) -> tuple[str, dict[str, str]] | None:
        """``("token" | "revoke", a file of the tenant)`` for ``{pu}{ot}`` / ``{pu}{or}``."""
        for file in self.files.values():
            if _host(file["pu"]) != request.host:
                continue
            base = urlsplit(file["pu"]).path
            if request.path == base + file["ot"]:
                return "token", file
            if request.path == base + file["or"]:
                return "revoke", file
        return None

    def _authenticate(
        self, request: Request, form: dict[str, str], endpoint_file: dict[str, str]
    ) -> dict[str, str]:
        client_id, secret, method = client_credentials(request, form)
        file = self.files.get(client_id)
        basic = method == "client_secret_basic"
        if (
            file is None
            or file["ti"] != endpoint_file["ti"]
            or not secrets.compare_digest(file["cs"].encode(), secret.encode())
        ):
            raise invalid_client("Invalid client or client credentials", basic=basic)
        self.auth_methods_seen.append(method)
        return file

    def _password_grant(self, file: dict[str, str], form: dict[str, str]) -> Reply:
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise invalid_request("Missing grant_type parameter")
        if grant_type != "password":
            raise OAuthError(400, "unsupported_grant_type", f"{grant_type} is not supported")
        username, password = form.get("username", ""), form.get("password", "")
        if username != file["saak"] or not secrets.compare_digest(
            password.encode(), file["sask"].encode()
        ):
            raise invalid_grant("Invalid resource owner credentials")
        token = secrets.token_urlsafe(32)
        expires = self.now() + self.access_lifetime
        self.tokens[token] = IonToken(file["ci"], file["saak"], file["ti"], expires)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.access_lifetime}
        return Reply(200, body, dict(NO_STORE))

    def _revoke(self, file: dict[str, str], form: dict[str, str]) -> Reply:
        token = self.tokens.get(form.get("token", ""))
        if token is not None and token.client_id == file["ci"]:
            token.revoked = True
        return Reply(200, None)

    # --- the gateway --------------------------------------------------------------------------

    def _gateway(self, request: Request) -> Reply:
        tenant, _, route = request.path.lstrip("/").partition("/")
        known = any(
            _host(f["iu"]) == request.host and f["ti"] == tenant for f in self.files.values()
        )
        if not known:
            return NOT_FOUND
        token = self._bearer(request, tenant)
        if (request.method, route) == ("GET", USERS_ME):
            return self._users_me(token)
        if (request.method, route) == ("POST", SX_WAREHOUSES):
            return self._sx_warehouses(token, request)
        if (request.method, route) == ("POST", SX_REST + SX_SINGLE_PO):
            return self._sx_single_po(token, request)
        if request.method == "POST" and route.removeprefix(SX_REST) in SX_LISTS:
            return self._sx_list(token, request, SX_LISTS[route.removeprefix(SX_REST)])
        return NOT_FOUND

    def _bearer(self, request: Request, tenant: str) -> IonToken:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if (
            token is None
            or token.revoked
            or token.expires_at <= self.now()
            or token.tenant != tenant
        ):
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            raise OAuthError(401, "invalid_token", "Invalid or expired access token", challenge)
        return token

    def _users_me(self, token: IonToken) -> Reply:
        user = self.users.get(token.saak, {"id": "", "displayName": ""})
        return Reply(200, {"response": {"userlist": [dict(user)]}})

    def _sx_call(self, token: IonToken, request: Request) -> Reply | dict[str, Any]:
        """The SX.e request inside the body, or the refusal."""
        if token.saak not in self.sx_operators:
            return Reply(403, {"message": "No SX.e operator for this user"})
        if not request.headers.get("content-type", "").startswith("application/json"):
            return Reply(415, {"message": "Unsupported Media Type"})
        body = _sx_request(request)
        if body is None:
            return Reply(400, {"message": 'The body must be {"request": {...}}'})
        return body

    def _sx_list(self, token: IonToken, request: Request, shape: tuple[str, ...]) -> Reply:
        body = self._sx_call(token, request)
        if isinstance(body, Reply):
            return body
        if self.throttle > 0:
            self.throttle -= 1
            return Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "1"})
        attribute, start_field, key, flag, table, rows_key = shape
        company = body.get("companyNumber")
        if company not in self.sx_companies:
            answer = {"cErrorMessage": f"Invalid Company Number: {company}", flag: False}
            return Reply(200, {"response": {**answer, table: {rows_key: []}}})
        limit = body.get("recordLimit")
        if not isinstance(limit, int) or limit < 1:
            return Reply(400, {"message": "recordLimit must be a positive number"})
        start = body.get(start_field) or None
        rows = sorted(getattr(self, attribute), key=lambda r: (r[key], r.get("posuf", 0)))
        rows = [r for r in rows if start is None or r[key] >= start]
        answer = {"cErrorMessage": "", flag: len(rows) > limit, table: {rows_key: rows[:limit]}}
        return Reply(200, {"response": answer})

    def _sx_single_po(self, token: IonToken, request: Request) -> Reply:
        """One purchase order's lines (``tPolineitemv2``), by number and suffix."""
        body = self._sx_call(token, request)
        if isinstance(body, Reply):
            return body
        if self.throttle > 0:
            self.throttle -= 1
            return Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "1"})
        if body.get("companyNumber") not in self.sx_companies:
            error = f"Invalid Company Number: {body.get('companyNumber')}"
            return Reply(200, {"response": {"cErrorMessage": error}})
        number, suffix = body.get("purchaseOrderNumber"), body.get("purchaseOrderSuffix", 0)
        if (number, suffix) not in self.sx_po_lines:
            error = f"Purchase Order #{number}-{suffix} not found"
            return Reply(200, {"response": {"cErrorMessage": error}})
        rows = self.sx_po_lines[(number, suffix)] if body.get("includeLineData") else []
        answer = {"cErrorMessage": "", "tPolineitemv2": {"t-polineitemv2": rows}}
        return Reply(200, {"response": answer})

    def _sx_warehouses(self, token: IonToken, request: Request) -> Reply:
        body = self._sx_call(token, request)
        if isinstance(body, Reply):
            return body
        company = body.get("companyNumber")
        if company not in self.sx_companies:
            return Reply(200, _sx_answer(f"Invalid Company Number: {company}", []))
        rows = [
            {"codeValue": code, "codeDesc": name, "extraData": "", "sortFld": code}
            for code, name in sorted(self.warehouses.items())
        ]
        return Reply(200, _sx_answer("", rows))


def _sx_request(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json()
    except ValueError:
        return None
    inner = body.get("request") if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else None


def _sx_answer(error: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    return {"response": {"cErrorMessage": error, "tCodeLst": {"t-codeLst": rows}}}
