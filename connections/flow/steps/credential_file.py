"""The credentials-file step (Infor ION API): the customer drops the ``.ionapi`` file they
downloaded from Infor OS; Onramp reads it, shows the tenant and app back, keeps every secret
encrypted, and adds them to the details when they are submitted."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from catalog.schema import MethodSpec
from connections.errors import OnrampError, with_headers
from connections.flow.steps.base import FlowStep, StepIncomplete
from connections.flow.views.base import HtmxHttpRequest, flow_screen, flow_url, fragment, see_other
from connections.http.middleware import body_limit, declared_body_size
from connections.models import LinkSession
from connections.security.ionapi import MAX_BYTES, IonFileError
from connections.services.credential_files import (
    credential_file_current,
    credential_file_secrets,
    credential_file_upload,
)

UPLOAD_MAX_BYTES = MAX_BYTES + 8 * 1024


class CredentialFileStep(FlowStep):
    name = "credential_file"
    template = "connect/steps/credential_file.html"

    def urlpatterns(self) -> list[Any]:
        base = "<str:link_token>/s/<slug:slug>/<slug:method_id>/credentials-file/"
        return [
            path(base, section, name="credential-file-step"),
            path(base + "upload/", upload, name="credential-file-upload"),
        ]

    def context(self, session: LinkSession, method: MethodSpec) -> dict[str, Any]:
        return {"credential_file": credential_file_current(session)}

    def contribute(
        self, session: LinkSession, method: MethodSpec
    ) -> tuple[dict[str, str], dict[str, str]]:
        record = credential_file_current(session)
        if record is None:
            raise StepIncomplete(_("Add the .ionapi credentials file first (step 1)."))
        return dict(record.summary), credential_file_secrets(record)


step = CredentialFileStep()


@require_GET
@flow_screen
def section(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    context = step.screen_context(request, session, slug, method_id)
    return _answer(request, session, context | {"choose_again": True})


@require_POST
@sensitive_post_parameters()  # the .ionapi file's secrets, in the frames below
@sensitive_variables()
@flow_screen
@body_limit(UPLOAD_MAX_BYTES)
def upload(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    context = step.screen_context(request, session, slug, method_id)
    if declared_body_size(request) > UPLOAD_MAX_BYTES:
        return _answer(request, session, context, _("This file is too large."), status=413)
    dropped = request.FILES.get("ionapi")
    if dropped is None or dropped.size == 0:
        return _answer(request, session, context, _("Choose the .ionapi file."), status=422)
    try:
        credential_file_upload(session=session, data=dropped.read(MAX_BYTES + 1))
    except IonFileError as exc:
        return _answer(request, session, context, exc.message, status=422)
    except OnrampError as exc:
        return with_headers(_answer(request, session, context, exc.message, exc.status), exc)
    return _answer(request, session, context)


def _answer(
    request: HtmxHttpRequest,
    session: LinkSession,
    context: dict,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """htmx: the step's section again; full page: back to the details screen."""
    if not error and not request.htmx:
        return see_other(
            flow_url(request, "details", context["system"].slug, context["method"].id)
        )
    context = context | {"file_error": error, "credential_file": credential_file_current(session)}
    return fragment(request, session, step.template, context, status=status)
