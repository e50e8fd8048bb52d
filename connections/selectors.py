"""Reads for views and the API (writes live in ``services/``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import Http404

from connections.models import Partner


def partner_object(model: type[Model], partner: Partner, object_id: str) -> Any:
    """One of the partner's own rows, or 404 (another partner's rows do not exist for it)."""
    found = model.objects.filter(pk=object_id[:32], partner=partner).first()
    if found is None:
        raise Http404(f"No {model._meta.verbose_name} with id {object_id[:32]!r}.")
    return found
