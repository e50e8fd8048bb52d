from django.urls import path

from connections.agents import views

urlpatterns = [
    path("v1/pair", views.pair, name="agent-pair"),
    path("v1/targets", views.targets, name="agent-targets"),
    path("onramp-agent.py", views.download, name="agent-download"),
    path("install/", views.install, name="agent-install"),
]
