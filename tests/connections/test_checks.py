"""System checks that keep the code's registries whole."""

from __future__ import annotations

from connections import checks
from connections.flow.steps.base import FlowStep


class GhostStep(FlowStep):
    name = "ghost"
    template = "connect/steps/ghost.html"


def test_every_flow_step_has_its_template_and_every_named_step_exists(monkeypatch):
    assert checks.check_flow_steps() == []
    monkeypatch.setitem(checks.STEPS, "ghost", GhostStep())
    problems = [error.msg for error in checks.check_flow_steps()]
    assert problems == ["Flow step 'ghost' has no template 'connect/steps/ghost.html'."]
    scheme = next(iter(checks.SCHEMES.values()))
    monkeypatch.setattr(scheme, "step", "vanished")
    assert any("unknown flow step 'vanished'" in p.msg for p in checks.check_flow_steps())
