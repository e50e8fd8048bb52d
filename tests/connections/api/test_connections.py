"""Connections in the partner API (``api/connections.py``): whatever list filters a partner
sends, never a 500."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FUZZ


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "offset", "status", "system", "end_user_id"]),
        st.text(max_size=30),
    )
)
def test_list_filters_never_500(api, query):
    assert api.get("/api/v1/connections", query).status_code in (200, 400)
