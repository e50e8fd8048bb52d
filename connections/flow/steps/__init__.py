"""Extra steps of the flow that some auth schemes need, on the details screen above the
fields: make or upload a certificate, drop a credential file, sign in and consent.

A scheme names its step (``AuthScheme.step``); the step brings everything else: its views
and URL patterns (under ``/connect/<link token>/s/<system>/<method>/<step>/…``), its
template (``templates/connect/steps/<step>.html``), what it shows (``context``) and what it
adds to the submitted details (``contribute``). The flow asks the step; no view knows one by
name.

To add a step: write ``connections/steps/<name>.py`` with a ``FlowStep`` subclass and its
views, its template, and one line in ``STEPS`` below; then set ``step = "<name>"`` on the
scheme that needs it.
"""

from __future__ import annotations

from typing import Any

from catalog.schema import MethodSpec
from connections.flow.steps import certificate, credential_file, oauth
from connections.flow.steps.base import FlowStep, StepIncomplete
from connections.schemes import SCHEMES

__all__ = ["STEPS", "FlowStep", "StepIncomplete", "step_for", "urlpatterns"]


STEPS: dict[str, FlowStep] = {
    certificate.step.name: certificate.step,
    credential_file.step.name: credential_file.step,
    oauth.step.name: oauth.step,
}


def step_for(method: MethodSpec) -> FlowStep | None:
    name = SCHEMES[method.scheme].step
    return STEPS[name] if name else None


def urlpatterns() -> list[Any]:
    return [pattern for step in STEPS.values() for pattern in step.urlpatterns()]
