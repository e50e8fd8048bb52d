import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connections.security import tokens
from connections.security.tokens import TokenKind
from connections.services.connections import connection_for_token
from connections.services.partners import partner_key_authenticate


def test_minted_token_is_prefixed_long_and_well_formed():
    minted = tokens.mint(TokenKind.CONNECTION)
    assert minted.value.startswith("onr_ct_")
    assert len(minted.value) == len("onr_ct_") + 27 + 6
    assert tokens.well_formed(minted.value, TokenKind.CONNECTION)
    assert minted.digest == tokens.digest(minted.value) != minted.value
    assert minted.display == minted.value[:13] + "…"


def test_tokens_are_unique():
    assert len({tokens.mint(TokenKind.PUBLIC).value for _ in range(200)}) == 200


def test_a_mistyped_character_is_caught_by_the_checksum():
    value = tokens.mint(TokenKind.PARTNER_KEY).value
    index = 12
    typo = value[:index] + ("x" if value[index] != "x" else "y") + value[index + 1 :]
    assert not tokens.well_formed(typo, TokenKind.PARTNER_KEY)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-1],
        lambda v: v + "a",
        lambda v: v.upper(),
        lambda v: v.replace("onr_sk_", "onr_ct_"),
    ],
)
def test_truncated_extended_or_wrong_kind_is_refused(mangle):
    value = tokens.mint(TokenKind.PARTNER_KEY).value
    assert not tokens.well_formed(mangle(value), TokenKind.PARTNER_KEY)


@pytest.mark.django_db
def test_a_mistyped_token_is_refused_without_a_query():
    value = tokens.mint(TokenKind.CONNECTION).value
    typo = value[:-2] + ("a" if value[-2] != "a" else "b") + value[-1]
    with CaptureQueriesContext(connection) as queries:
        assert connection_for_token(typo) is None
        assert partner_key_authenticate("onr_sk_short") is None
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_well_formed_unknown_token_is_refused():
    assert connection_for_token(tokens.mint(TokenKind.CONNECTION).value) is None
