from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.views import favicon
from connections.admin import report_urls
from connections.api import api
from connections.flow.views.guides import guide
from connections.flow.views.oauth_callback import oauth_callback, oauth_start

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/reports/", include((report_urls, "reports"))),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("agent/", include("connections.agents.urls")),
    path("connect/", include("connections.flow.urls")),
    path("guides/<slug:slug>/<slug:method_id>/", guide, name="guide"),
    path("oauth/callback/", oauth_callback, name="oauth-callback"),
    path("oauth/start/<str:sign_in_id>/<str:start_token>/", oauth_start, name="oauth-start"),
]

if settings.ONRAMP_SANDBOX:
    urlpatterns.append(path("sandbox/", include("catalog.sandbox")))
if settings.ONRAMP_DEMO:
    urlpatterns.append(path("demo/", include("connections.demo")))
