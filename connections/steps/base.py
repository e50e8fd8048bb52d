"""What every flow step provides (see ``connections/steps/__init__.py``)."""

from __future__ import annotations

from typing import Any, ClassVar

from catalog.schema import MethodSpec
from connections.models import LinkSession


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

    def contribute(
        self, session: LinkSession, method: MethodSpec
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Config and credentials the step adds to a submit; raise ``StepIncomplete``."""
        return {}, {}
