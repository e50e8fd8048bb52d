"""NetSuite: the OAuth 2.0 M2M token endpoint, Token-Based Auth, and SuiteQL.

SuiteQL (``POST /services/rest/query/v1/suiteql``, ``{"q": ...}``, ``Prefer: transient``)
answers ``{links, count, hasMore, items, offset, totalResults}`` in pages of ``limit`` (at
most 1,000) from ``offset`` (Oracle: "Executing SuiteQL Queries Through REST Web Services",
"Collection Paging"). A query ``FROM`` a table in ``Account.tables`` (rows as SuiteQL returns
them: lowercase column names) lists its rows by id; ``lastmodifieddate >= TO_TIMESTAMP('…'``
in it filters them on their ``lastmodified`` column (the SELECT gives it with ``TO_CHAR`` in
ISO form); ``transaction IN (…)`` or ``item IN (…)`` keeps the rows of those transactions
(``transactionline``) or items (``inventoryitemlocations``), sorted by them, then by id.
``throttle`` answers the next that many queries 429 (NetSuite's concurrency limit; with
``throttle_table``, only queries on that table).

It checks what NetSuite checks, independently of Onramp's client code: the client assertion
is parsed and its signature verified here with plain ``cryptography`` against the uploaded
certificate (alg, kid, iss, aud, scope, iat/exp); TBA signatures are recomputed from RFC 5849
by hand (HMAC-SHA256 only, uppercase realm, ±5 minute timestamps, nonces never reused); each
refusal is written to ``login_audit`` as NetSuite's Login Audit Trail would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.fakes.base import FakeSystem, Reply, Request

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
MAX_LIMIT = 1000
FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)
# Some records' rows of a table of details: transactionline's, inventoryitemlocations'.
IN_PARENTS = re.compile(r"\b(transaction|item)\s+IN\s*\(([^)]*)\)", re.IGNORECASE)
MODIFIED_SINCE = re.compile(r"lastmodifieddate\s*>=\s*TO_TIMESTAMP\('([0-9T:Z-]+)'", re.IGNORECASE)
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
RECORD_PATH = "/services/rest/record/v1/"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
ALLOWED_ALGS = {"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}  # RS256: refused
M2M_LOGIN = "Log in using OAuth 2.0 Access Tokens"
TBA_LOGIN = "Log in using Access Tokens"
FULL_ROLE = {
    M2M_LOGIN,
    TBA_LOGIN,
    "REST Web Services",
    "SuiteAnalytics Workbook",
    "Lists > Employees",
}


@dataclass
class Role:
    name: str
    permissions: set[str] = field(default_factory=lambda: set(FULL_ROLE))
    active: bool = True


@dataclass
class Integration:
    client_id: str
    consumer_secret: str = ""
    m2m: bool = True
    tba: bool = False
    scopes: set[str] = field(default_factory=lambda: {"rest_webservices"})


@dataclass
class Mapping:
    certificate_id: str
    client_id: str
    certificate_pem: str
    role: Role
    entity_active: bool = True


@dataclass
class AccessToken:
    token_id: str
    token_secret: str
    consumer_key: str
    role: Role


@dataclass
class Account:
    account_id: str  # NetSuite's form: 1234567_SB1
    integrations: dict[str, Integration] = field(default_factory=dict)
    mappings: dict[str, Mapping] = field(default_factory=dict)
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    issued: dict[str, tuple[Role, float, set[str]]] = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)  # SuiteQL: table → rows

    @property
    def host(self) -> str:
        return f"{self.account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"

    def add_integration(self, *, m2m: bool = True, tba: bool = False) -> Integration:
        integration = Integration(
            client_id=secrets.token_hex(32),
            consumer_secret=secrets.token_hex(32),
            m2m=m2m,
            tba=tba,
        )
        self.integrations[integration.client_id] = integration
        return integration

    def map_certificate(
        self, integration: Integration, certificate_pem: str, role: Role | None = None
    ) -> Mapping:
        mapping = Mapping(
            certificate_id=secrets.token_urlsafe(32),
            client_id=integration.client_id,
            certificate_pem=certificate_pem,
            role=role or Role("Integration"),
        )
        self.mappings[mapping.certificate_id] = mapping
        return mapping

    def add_token(self, integration: Integration, role: Role | None = None) -> AccessToken:
        token = AccessToken(
            token_id=secrets.token_hex(32),
            token_secret=secrets.token_hex(32),
            consumer_key=integration.client_id,
            role=role or Role("Integration"),
        )
        self.tokens[token.token_id] = token
        return token


class Refused(Exception):
    def __init__(self, reply: Reply, reason: str) -> None:
        super().__init__(reason)
        self.reply, self.reason = reply, reason


def oauth_error(status: int, error: str, reason: str) -> Refused:
    return Refused(Reply(status, {"error": error}), reason)


def rest_error(status: int, code: str, detail: str, reason: str) -> Refused:
    title = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}[status]
    body = {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
        "title": title,
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    }
    return Refused(Reply(status, body), reason)


INVALID_LOGIN = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the "
    "NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail."
)


def invalid_login(reason: str) -> Refused:
    return rest_error(401, "INVALID_LOGIN", INVALID_LOGIN, reason)


class FakeNetSuite(FakeSystem):
    hosts = ("*.suitetalk.api.netsuite.com",)

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, Account] = {}
        self.login_audit: list[str] = []
        self.nonces: set[tuple[str, str, str]] = set()
        self.now = time.time
        self.throttle = 0  # the next this many SuiteQL queries answer 429
        self.throttle_table = ""  # only those on this table (e.g. "transactionline")

    def reset(self) -> None:
        super().reset()
        self.accounts.clear()
        self.login_audit.clear()
        self.nonces.clear()
        self.now = time.time
        self.throttle = 0
        self.throttle_table = ""

    def add_account(self, account_id: str) -> Account:
        account = Account(account_id)
        self.accounts[account.host] = account
        return account

    def handle(self, request: Request) -> Reply:
        account = self.accounts.get(request.host)
        if account is None:
            return Reply(404, {"title": "Not Found"})
        try:
            if request.path == TOKEN_PATH and request.method == "POST":
                return self._token(account, request)
            if request.path == SUITEQL_PATH and request.method == "POST":
                return self._suiteql(account, request)
            if request.path.startswith(RECORD_PATH) and request.method == "GET":
                return self._record(account, request)
        except Refused as refused:
            self.login_audit.append(refused.reason)
            return refused.reply
        return Reply(404, {"title": "Not Found"})

    # --- OAuth 2.0 client credentials -------------------------------------------------------

    def _token(self, account: Account, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            raise oauth_error(400, "invalid_request", "NotFormEncoded")
        form = dict(parse_qsl(request.body.decode()))
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_assertion_type") != ASSERTION_TYPE
        ):
            raise oauth_error(400, "invalid_request", "InvalidGrantType")
        header, claims, signed, signature = self._parse_jwt(form.get("client_assertion", ""))
        mapping = account.mappings.get(header.get("kid", ""))
        if mapping is None:
            raise oauth_error(401, "invalid_client", "UnknownCertificateId")
        integration = account.integrations.get(claims.get("iss", ""))
        if (
            integration is None
            or not integration.m2m
            or mapping.client_id != integration.client_id
        ):
            raise oauth_error(401, "invalid_client", "InvalidIntegration")
        self._verify_signature(header["alg"], mapping.certificate_pem, signed, signature)
        if claims.get("aud") != f"https://{account.host}{TOKEN_PATH}":
            raise oauth_error(400, "invalid_grant", "InvalidAudience")
        self._check_times(claims)
        scopes = set(str(claims.get("scope", "")).replace(",", " ").split())
        if not scopes or not scopes <= integration.scopes:
            raise oauth_error(400, "invalid_grant", "ScopeMismatched")
        role = mapping.role
        if not (role.active and mapping.entity_active) or M2M_LOGIN not in role.permissions:
            raise oauth_error(400, "invalid_grant", "EntityOrRoleDisabled")
        token = secrets.token_urlsafe(48)
        account.issued[token] = (role, self.now() + 3600, scopes)
        return Reply(200, {"access_token": token, "expires_in": "3600", "token_type": "bearer"})

    @staticmethod
    def _parse_jwt(assertion: str) -> tuple[dict, dict, bytes, bytes]:
        try:
            head, body, sig = assertion.split(".")
            header = json.loads(_b64url(head))
            claims = json.loads(_b64url(body))
            signature = _b64url(sig)
        except ValueError:
            raise oauth_error(400, "invalid_request", "MalformedAssertion") from None
        if header.get("typ") != "JWT" or header.get("alg") not in ALLOWED_ALGS:
            raise oauth_error(400, "invalid_request", "UnsupportedAlgorithm")
        return header, claims, f"{head}.{body}".encode(), signature

    @staticmethod
    def _verify_signature(alg: str, certificate_pem: str, signed: bytes, signature: bytes) -> None:
        public_key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
        digest = HASHES[alg[2:]]
        try:
            if alg.startswith("ES"):
                half = len(signature) // 2
                der = encode_dss_signature(
                    int.from_bytes(signature[:half]), int.from_bytes(signature[half:])
                )
                public_key.verify(der, signed, ec.ECDSA(digest))  # type: ignore[call-arg]
            else:
                pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
                public_key.verify(signature, signed, pss, digest)  # type: ignore[call-arg]
        except (InvalidSignature, TypeError, ValueError):
            raise oauth_error(401, "invalid_client", "InvalidSignature") from None

    def _check_times(self, claims: dict) -> None:
        now, iat, exp = self.now(), claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            raise oauth_error(400, "invalid_request", "MissingIatOrExp")
        if exp <= now or iat > now + 60:
            raise oauth_error(400, "invalid_grant", "AssertionExpiredOrNotYetValid")
        if exp - iat > 3600:
            raise oauth_error(400, "invalid_grant", "AssertionLifetimeTooLong")

    # --- SuiteQL ----------------------------------------------------------------------------

    def _suiteql(self, account: Account, request: Request) -> Reply:
        role = self._authenticate(account, request)
        if "REST Web Services" not in role.permissions:
            raise invalid_login("InsufficientPermission:REST Web Services")
        if request.headers.get("prefer") != "transient":
            raise rest_error(400, "INVALID_HEADER", "Missing header Prefer: transient.", "")
        if "SuiteAnalytics Workbook" not in role.permissions:
            raise rest_error(
                403,
                "INSUFFICIENT_PERMISSION",
                "Permission Violation: You need the 'SuiteAnalytics Workbook' "
                "permission to access this page.",
                "",
            )
        query = (request.json() or {}).get("q", "")
        if "employee" in query.lower() and "Lists > Employees" not in role.permissions:
            raise rest_error(
                400,
                "INVALID_PARAMETER",
                "Invalid search query. Detailed unprocessed description follows. "
                "Search error occurred: Record 'employee' was not found.",
                "",
            )
        table = FROM.search(query)
        if table and table.group(1).lower() in account.tables:
            return self._rows(account.tables[table.group(1).lower()], query, request)
        return Reply(
            200,
            {
                "links": [],
                "count": 1,
                "hasMore": False,
                "offset": 0,
                "totalResults": 1,
                "items": [{"links": [], "id": "7"}],
            },
        )

    def _rows(self, rows: list[dict], query: str, request: Request) -> Reply:
        """One page of a table's rows, by id, filtered on ``lastmodified`` if asked."""
        table = (FROM.search(query) or [None, ""])[1].lower()
        if self.throttle > 0 and self.throttle_table in ("", table):
            self.throttle -= 1
            body = {
                "title": "Too Many Requests",
                "status": 429,
                "o:errorDetails": [
                    {
                        "detail": "Concurrency limit exceeded.",
                        "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
                    }
                ],
            }
            return Reply(429, body, {"Retry-After": "1"})
        limit, offset = (
            request.query.get("limit", ["1000"])[0],
            request.query.get("offset", ["0"])[0],
        )
        if not (limit.isdigit() and offset.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
            raise rest_error(400, "INVALID_PARAMETER", "Invalid limit or offset.", "")
        if since := MODIFIED_SINCE.search(query):
            rows = [r for r in rows if r["lastmodified"] >= since.group(1)[:19]]
        column = ""
        if parents := IN_PARENTS.search(query):  # some orders' lines, some items' stock
            column = parents.group(1).lower()
            ids = {i.strip() for i in parents.group(2).split(",")}
            rows = [r for r in rows if r[column] in ids]
        rows = sorted(rows, key=lambda r: (int(r.get(column) or 0), int(r.get("id") or 0)))
        start, end = int(offset), int(offset) + int(limit)
        page = [{"links": [], **row} for row in rows[start:end]]
        body = {
            "links": [],
            "count": len(page),
            "hasMore": end < len(rows),
            "offset": start,
            "totalResults": len(rows),
            "items": page,
        }
        return Reply(200, body)

    def _record(self, account: Account, request: Request) -> Reply:
        """REST record service: ``GET /services/rest/record/v1/<type>/<id>``."""
        self._authenticate(account, request)
        record_type, _, record_id = request.path.removeprefix(RECORD_PATH).partition("/")
        return Reply(200, {"id": record_id, "type": record_type, "companyName": "Northwind"})

    def _authenticate(self, account: Account, request: Request) -> Role:
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            issued = account.issued.get(authorization[7:])
            if issued is None or issued[1] < self.now():
                raise invalid_login("InvalidOrExpiredAccessToken")
            if "rest_webservices" not in issued[2]:
                raise invalid_login("ScopeMismatched")
            return issued[0]
        if authorization.startswith("OAuth "):
            return self._verify_tba(account, request, _oauth_params(authorization[6:]))
        raise invalid_login("MissingAuthorization")

    # --- Token-Based Authentication (OAuth 1.0a) ----------------------------------------------

    def _verify_tba(self, account: Account, request: Request, params: dict[str, str]) -> Role:
        if params.get("realm") != account.account_id:
            raise invalid_login("InvalidAccountOrRealm")
        if params.get("oauth_signature_method") != "HMAC-SHA256":
            raise invalid_login("UnsupportedSignatureMethod")
        timestamp = params.get("oauth_timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - self.now()) > 300:
            raise invalid_login("InvalidTimestamp")
        consumer, token_id = params.get("oauth_consumer_key", ""), params.get("oauth_token", "")
        integration = account.integrations.get(consumer)
        token = account.tokens.get(token_id)
        if integration is None or not integration.tba:
            raise invalid_login("InvalidConsumerKey")
        if token is None or token.consumer_key != consumer:
            raise invalid_login("InvalidToken")
        nonce = params.get("oauth_nonce", "")
        if len(nonce) < 6 or (consumer, token_id, nonce) in self.nonces:
            raise invalid_login("InvalidNonce")
        self.nonces.add((consumer, token_id, nonce))
        expected = _tba_signature(request, params, integration.consumer_secret, token.token_secret)
        if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
            raise invalid_login("InvalidSignature")
        if TBA_LOGIN not in token.role.permissions or not token.role.active:
            raise invalid_login("InsufficientPermission:Log in using Access Tokens")
        return token.role


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def _oauth_params(header: str) -> dict[str, str]:
    params = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        params[key] = unquote(value.strip('"'))
    return params


def _tba_signature(
    request: Request, params: dict[str, str], consumer_secret: str, token_secret: str
) -> str:
    """RFC 5849 §3.4: base string over method, base URL and every parameter but the
    signature and realm; HMAC-SHA256 keyed by both secrets."""
    pairs = [(k, v) for k, v in params.items() if k not in ("oauth_signature", "realm")]
    pairs += [(k, v) for k, values in request.query.items() for v in values]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in pairs))
    base_url = f"https://{request.host}{request.path}"
    base = "&".join([request.method.upper(), _enc(base_url), _enc(normalized)])
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
