"""Admin sign-in lockout (``admin/login.py``, SECURITY.md rule 11): it keys on the account and
the client, so nobody can lock an operator out from an address they do not hold."""

from __future__ import annotations

from django.test import Client

LOGIN = "/admin/login/"
LOCKED = "Too many failed sign-ins"


def fail(client: Client, username: str = "admin", times: int = 3) -> None:
    for _ in range(times):
        client.post(LOGIN, {"username": username, "password": "wrong"})


def test_failures_from_one_address_do_not_lock_the_operator_out_from_another(admin_user, settings):
    settings.ONRAMP_ADMIN_LOGIN_FAILURES = 3
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    fail(attacker)
    refused = attacker.post(LOGIN, {"username": "admin", "password": "password"})
    assert LOCKED in refused.content.decode() and "_auth_user_id" not in attacker.session
    operator = Client(REMOTE_ADDR="198.51.100.7")
    signed_in = operator.post(LOGIN, {"username": "admin", "password": "password"})
    assert signed_in.status_code == 302 and "_auth_user_id" in operator.session


def test_an_address_guessing_many_names_is_locked_out_for_all_of_them(admin_user, settings):
    settings.ONRAMP_ADMIN_LOGIN_FAILURES = 3
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for name in ("root", "ops", "administrator"):
        fail(guesser, name, times=1)
    refused = guesser.post(LOGIN, {"username": "admin", "password": "password"})
    assert LOCKED in refused.content.decode()


def test_admin_login_locks_out_after_repeated_failures(admin_user, settings):
    settings.ONRAMP_ADMIN_LOGIN_FAILURES = 3
    client = Client()
    for _ in range(3):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    locked = client.post("/admin/login/", {"username": "admin", "password": "password"})
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
