"""What every flow step provides (see ``connections/steps/__init__.py``)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import Http404

from catalog.schema import MethodSpec
from connections.flow.views.base import HtmxHttpRequest, method_context
from connections.models import LinkSession
from connections.schemes import SCHEMES


class StepIncomplete(Exception):
    """The step has not been done yet; ``message`` tells the user what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FlowStep:
    name: ClassVar[str]
    template: ClassVar[str]

    def urlpatterns(self) -> list[Any]:
        """URL patterns relative to ``<link token>/s/<slug>/<method>/``."""
        return []

    def context(self, session: LinkSession, method: MethodSpec) -> dict[str, Any]:
        """What the step's template shows on the details screen."""
        return {}

    def screen_context(
        self, request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
    ) -> dict[str, Any]:
        """For the step's own views: the details screen's context with the step's (404 for a
        method that does not use this step)."""
        context = method_context(request, session, slug, method_id, back="prepare")
        if SCHEMES[context["method"].scheme].step != self.name:
            raise Http404(f"This method has no {self.name} step.")
        return context | self.context(session, context["method"])

    def contribute(
        self, session: LinkSession, method: MethodSpec
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Config and credentials the step adds to a submit; raise ``StepIncomplete``."""
        return {}, {}
