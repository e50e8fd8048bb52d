"""Admin login lockout (SECURITY.md rule 6): too many failures lock a username and an IP."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from connections.ratelimit import count_hit, hits

LOCKOUT_SECONDS = 15 * 60


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": _("Too many failed sign-ins. Try again in 15 minutes."),
    }

    def clean(self) -> dict[str, Any]:
        keys = self._lockout_keys()
        if any(hits(key) >= settings.ONRAMP_ADMIN_LOGIN_FAILURES for key in keys):
            raise ValidationError(self.error_messages["locked"], code="locked")
        try:
            return super().clean()
        except ValidationError:
            for key in keys:
                count_hit(key, LOCKOUT_SECONDS)
            raise

    def _lockout_keys(self) -> list[str]:
        username = (self.data.get("username") or "").lower()[:150]
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return [f"onramp:admin-login:user:{username}", f"onramp:admin-login:ip:{address}"]
