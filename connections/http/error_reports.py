"""Error reports that never show a secret, with DEBUG on too.

Django hides what views mark with ``sensitive_post_parameters`` and ``sensitive_variables``
only when DEBUG is off: its DEBUG page shows every posted value and every frame's variables.
Onramp's development and demo servers receive real credentials (an ``.ionapi`` file, an ERP
password), so ``SecretsHidden`` (``DEFAULT_EXCEPTION_REPORTER_FILTER``) applies the marks
always. Mark a view or service that receives a secret with both decorators: all of its
variables, and those of every function it calls, are then hidden.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class SecretsHidden(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True
