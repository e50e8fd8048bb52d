"""The Sandbox ERP's sign-in: a small OAuth 2.0 authorization server, so the demo shows the
"sign in and allow" pattern without internet.

It checks what real providers check: its one client (published practice credentials, like
the Sandbox's password), the exact redirect URI (Onramp's callback), PKCE S256, single-use
codes that expire after a minute, and rotating refresh tokens. Codes and tokens live in the
cache, as a demo's state may.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

CLIENT_ID = "sandbox-demo-client"
CLIENT_SECRET = "sandbox-demo-secret"  # noqa: S105 — published practice credentials
ACCESS_LIFETIME = 3600
PREFIX = "sandbox-oauth"
# What each scope lets the app do, in the words of the consent page.
SCOPES = {"orders:read": "Read your orders: numbers, customers, totals and status"}


def _unnamed(state: str) -> str:
    return ""


# Whose app a consent is for, by the request's state. A real provider names the app its client
# was registered as; this practice client is shared by every partner, so Onramp (which issued
# the state) answers: ``connections``' AppConfig sets it.
app_name_for_state: Callable[[str], str] = _unnamed


def callback_url() -> str:
    return f"{settings.ONRAMP_PUBLIC_URL}/oauth/callback/"


def _problem(query: dict[str, str]) -> str:
    if query.get("client_id") != CLIENT_ID:
        return "unknown client"
    if query.get("redirect_uri") != callback_url():
        return "this redirect URI is not registered"
    if query.get("response_type") != "code":
        return "response_type must be code"
    if query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) < 43:
        return "PKCE with S256 is required"
    return ""


@require_GET
def authorize(request: HttpRequest) -> HttpResponse:
    """The consent page a user sees in the sign-in window."""
    query = request.GET.dict()
    problem = _problem(query)
    allow = f"decide/?{urlencode({**query, 'decision': 'allow'})}"
    deny = f"decide/?{urlencode({**query, 'decision': 'deny'})}"
    context = {
        "problem": problem,
        "allow_url": allow,
        "deny_url": deny,
        "app_name": "" if problem else app_name_for_state(query.get("state", "")[:200]),
        "scopes": [SCOPES.get(scope, scope) for scope in query.get("scope", "").split()],
    }
    return render(request, "sandbox/consent.html", context, status=400 if problem else 200)


@require_GET
def decide(request: HttpRequest) -> HttpResponse:
    query = request.GET.dict()
    if _problem(query):
        return HttpResponse("Invalid authorization request.", status=400)
    state = {"state": query["state"]} if "state" in query else {}
    if query.get("decision") != "allow":
        return _back({"error": "access_denied", **state})
    code = secrets.token_urlsafe(32)
    grant = {"challenge": query["code_challenge"], "redirect_uri": query["redirect_uri"]}
    cache.set(f"{PREFIX}:code:{code}", grant, timeout=60)
    return _back({"code": code, **state})


def _back(params: dict[str, str]) -> HttpResponse:
    return HttpResponseRedirect(f"{callback_url()}?{urlencode(params)}")


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    """Codes (with the PKCE verifier) and rotating refresh tokens for access tokens."""
    if not _client_authenticated(request):
        return JsonResponse({"error": "invalid_client"}, status=401)
    form = request.POST
    if form.get("grant_type") == "authorization_code":
        grant = cache.get(f"{PREFIX}:code:{form.get('code', '')}")
        cache.delete(f"{PREFIX}:code:{form.get('code', '')}")  # single use
        verifier = form.get("code_verifier", "")
        if (
            not grant
            or grant["redirect_uri"] != form.get("redirect_uri")
            or not _pkce(verifier, grant)
        ):
            return JsonResponse({"error": "invalid_grant"}, status=400)
        return _issue()
    if form.get("grant_type") == "refresh_token":
        key = f"{PREFIX}:refresh:{form.get('refresh_token', '')}"
        if not cache.get(key):
            return JsonResponse({"error": "invalid_grant"}, status=400)
        cache.delete(key)  # rotated: the old refresh token stops working
        return _issue()
    return JsonResponse({"error": "unsupported_grant_type"}, status=400)


@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    if not _client_authenticated(request):
        return JsonResponse({"error": "invalid_client"}, status=401)
    value = request.POST.get("token", "")
    cache.delete_many([f"{PREFIX}:refresh:{value}", f"{PREFIX}:access:{value}"])
    return HttpResponse(status=200)


def access_token_user(value: str) -> str | None:
    """The user an access token was issued to (for the Sandbox's API), or None."""
    return cache.get(f"{PREFIX}:access:{value}") if value else None


def _issue() -> JsonResponse:
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    cache.set(f"{PREFIX}:access:{access}", "demo", timeout=ACCESS_LIFETIME)
    cache.set(f"{PREFIX}:refresh:{refresh}", "demo", timeout=30 * 24 * 3600)
    body = {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_LIFETIME}
    return JsonResponse({**body, "refresh_token": refresh, "scope": "orders:read"})


def _pkce(verifier: str, grant: dict[str, str]) -> bool:
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return bool(verifier) and hmac.compare_digest(challenge, grant["challenge"])


def _client_authenticated(request: HttpRequest) -> bool:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
    else:
        client_id, secret = (
            request.POST.get("client_id", ""),
            request.POST.get("client_secret", ""),
        )
    return client_id == CLIENT_ID and hmac.compare_digest(secret.encode(), CLIENT_SECRET.encode())
