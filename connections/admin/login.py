"""Admin login lockout (SECURITY.md rules 6 and 11): too many failures lock a username *from
that client address*, and an address that fails on many usernames. Failures from one address
never lock an operator out from another (else anyone could lock every operator out)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from connections.http.clientip import client_ip
from connections.security.ratelimit import Limit

LOCKOUT_SECONDS = 15 * 60


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": _("Too many failed sign-ins. Try again in 15 minutes."),
    }

    def clean(self) -> dict[str, Any]:
        limits = self._lockout_limits()
        if any(limit.reached() is not None for limit in limits):
            raise ValidationError(self.error_messages["locked"], code="locked")
        try:
            return super().clean()
        except ValidationError:
            for limit in limits:
                limit.hit()
            raise

    def _lockout_limits(self) -> list[Limit]:
        username = (self.data.get("username") or "").lower()[:150]
        address = client_ip(self.request) if self.request else ""
        failures = settings.ONRAMP_ADMIN_LOGIN_FAILURES
        return [
            Limit(f"onramp:admin-login:user:{username}:ip:{address}", failures, LOCKOUT_SECONDS),
            Limit(f"onramp:admin-login:ip:{address}", failures, LOCKOUT_SECONDS),
        ]
