"""The end-user flow, under /connect/<link token>/."""

from django.urls import path

from connections.flow import steps
from connections.flow.views import agent, details, flow, validate

app_name = "connect"

urlpatterns = [
    path("<str:link_token>/", flow.start, name="start"),
    path("<str:link_token>/systems/", flow.search, name="search"),
    path("<str:link_token>/systems/request/", flow.request_system, name="request_system"),
    path("<str:link_token>/s/<slug:slug>/", flow.system, name="system"),
    path("<str:link_token>/s/<slug:slug>/<slug:method_id>/", flow.prepare, name="prepare"),
    path(
        "<str:link_token>/s/<slug:slug>/<slug:method_id>/details/", details.details, name="details"
    ),
    path("<str:link_token>/s/<slug:slug>/<slug:method_id>/draft/", details.draft, name="draft"),
    path("<str:link_token>/attempts/<str:attempt_id>/", validate.attempt, name="attempt"),
    path("<str:link_token>/agent/", agent.agent, name="agent"),
    path("<str:link_token>/agent/status/", agent.agent_status, name="agent-status"),
    path("<str:link_token>/agent/code/", agent.agent_new_code, name="agent-code"),
    path("<str:link_token>/agent/confirm/", agent.agent_confirm, name="agent-confirm"),
    path("<str:link_token>/done/", flow.done, name="done"),
    path("<str:link_token>/exit/", flow.exit_flow, name="exit"),
    path("<str:link_token>/language/", flow.language, name="language"),
    *steps.urlpatterns(),  # each flow step brings its own
]
