"""Every definition in the catalog, checked against a stand-in of its host: the values it asks
for build its URLs, its scheme's auth reaches each live check, a good answer passes, and a
refusal on a permission check names the permission. (Each scheme's own round trip is tested
against a simulator of a real system elsewhere.)"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from catalog.registry import definitions
from catalog.schema import FieldSpec
from connections.schemes import SCHEMES
from connections.security.certificates import generate
from connections.verification.run import build_target, verify
from tests.fakes.echo import FakeEcho, api_url

CASES = [
    pytest.param(definition, method, id=f"{definition.slug}:{method.id}")
    for definition in definitions().values()
    for method in definition.methods
]
ANSWERED_URL = "https://api.example.com"  # a URL a token answer gives (Zoho's api_domain)
SAMPLES = {
    "subdomain": "acme",
    "hostname": "erp.acme.example",
    "url": "https://acme.example.com",
    "netsuite_account": "1234567",
    "manhattan_host": "acme.sce.manh.com",
}


@pytest.fixture(scope="module")
def echo():
    fake = FakeEcho().start()
    yield fake
    fake.stop()


def sample(spec: FieldSpec) -> str:
    if spec.normalize in SAMPLES:
        return SAMPLES[spec.normalize]
    if spec.placeholder and (not spec.pattern or re.fullmatch(spec.pattern, spec.placeholder)):
        return spec.placeholder
    return "1" if spec.pattern and re.fullmatch(spec.pattern, "1") else "sample"


def values_for(definition, method) -> tuple[dict[str, str], dict[str, str]]:
    config, credentials = {}, {}
    for spec in definition.fields + method.fields:
        (credentials if spec.secret else config)[spec.name] = sample(spec)
    scheme = SCHEMES[method.scheme]
    if scheme.step == "certificate":
        credentials["private_key"] = generate("ec").private_key_pem
    if scheme.step == "credential_file":
        config |= {"tenant": "ACME_TST", "app_name": "Onramp", "ion_url": "https://ion.example"}
        config["token_url"] = "https://sso.example/ACME_TST/as/token.oauth2"
        credentials |= dict.fromkeys(
            ("client_id", "client_secret", "access_key", "secret_key"), "s"
        )
    if scheme.step == "oauth_sign_in":
        config |= {"tenant_id": "tenant-1", "realmId": "9130355", "oauth_client_id": "app-1"}
        config |= dict.fromkeys(method.options.get("token_answer_config", {}), ANSWERED_URL)
        config |= dict.fromkeys(method.options.get("callback_params", []), "cb-1")
        credentials |= {
            "access_token": "token-1",
            "refresh_token": "r",
            "expires_at": "9999999999",
        }
    return config, credentials


def run(definition, method, echo, settings):
    settings.ONRAMP_OUTBOUND_HOST_MAP = f"*={echo.url}"
    config, credentials = values_for(definition, method)
    echo.expect(definition, method, {**config, **credentials})
    target = build_target(definition, method, config)
    steps: dict[str, str] = {}
    return verify(target, credentials, steps.update), target


@pytest.mark.parametrize(("definition", "method"), CASES)
def test_the_definition_is_consistent(definition, method, echo, settings):
    outcome, target = run(definition, method, echo, settings)
    assert outcome is None, f"{outcome.code}: {outcome.message} {outcome.detail}"
    checks = [r for r in echo.requests if not echo.is_login(r.path)]
    assert len(checks) == len(definition.verify)
    base = urlsplit(
        api_url(method.options) if "base_url_key" in method.options else target.base_url
    )
    for request, spec in zip(checks, definition.verify, strict=True):
        assert request.host == base.hostname
        assert request.method == spec.method
        assert request.path.startswith(base.path)
        assert _authorized(request, method), f"no auth on {request.path}"


@pytest.mark.parametrize(
    ("definition", "method"), [c for c in CASES if len(c.values[0].verify) > 1]
)
def test_a_refused_permission_check_names_the_permission(definition, method, echo, settings):
    second = definition.verify[1]
    echo_refuse = urlsplit(second.path.format_map({**values_for(definition, method)[0]})).path
    settings.ONRAMP_OUTBOUND_HOST_MAP = f"*={echo.url}"
    config, credentials = values_for(definition, method)
    echo.expect(definition, method, {**config, **credentials})
    echo.refuse = echo_refuse
    steps: dict[str, str] = {}
    outcome = verify(build_target(definition, method, config), credentials, steps.update)
    assert outcome is not None and outcome.code == "forbidden"
    assert (second.permission or second.label) in outcome.message
    assert steps["permissions"] == "failed"


def _authorized(request, method) -> bool:
    headers = request.headers
    options = method.options
    evidence = {
        "api_key": lambda: options["header"].lower() in headers,
        "header_set": lambda: all(name.lower() in headers for name in options["headers"]),
        "hmac_query": lambda: options["header"].lower() in headers,
        "oauth2_client_credentials": lambda: (
            options.get("token_header", "authorization").lower() in headers
        ),
        "password_exchange": lambda: (
            "cookie" in headers if options.get("cookies") else options["header"].lower() in headers
        ),
        # NTLM answers a server's 401 challenge only (an echo never sends one): its handshake
        # is checked against a Windows-like server in tests/connections/schemes/test_ntlm.py.
        "ntlm": lambda: True,
    }
    check = evidence.get(method.scheme, lambda: "authorization" in headers)
    return check()
