"""System checks that keep the code's registries whole."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

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


def test_a_deployment_refuses_local_webhooks(settings):
    settings.ONRAMP_ALLOW_LOCAL_WEBHOOKS = False
    assert checks.check_development_openings() == []
    settings.ONRAMP_ALLOW_LOCAL_WEBHOOKS = True
    with pytest.raises(SystemCheckError, match=r"connections\.E005"):
        call_command("check", "--deploy", "--fail-level", "ERROR")
    call_command("check")  # development checks still pass: it is what make demo runs with


@pytest.mark.slow
def test_production_settings_refuse_local_webhooks():
    from connections.security.crypto import new_key_spec
    from tests.standalone import manage, own_env

    production = own_env(
        DEBUG="0",
        SECRET_KEY="x" * 50,
        ONRAMP_ENCRYPTION_KEYS=new_key_spec("k1"),
        ONRAMP_ALLOW_LOCAL_WEBHOOKS="1",
    )
    with pytest.raises(AssertionError, match="ONRAMP_ALLOW_LOCAL_WEBHOOKS is for development"):
        manage("check", env=production)
