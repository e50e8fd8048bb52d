"""The certificate step of certificate-based methods (NetSuite OAuth 2.0 M2M).

A: Onramp generates the key pair (EC P-256 by default, RSA 4096 on request); B: the customer
uploads a certificate and private key made with OpenSSL, which are checked. Either way only
the public certificate can ever be downloaded; the private key joins the credentials.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from catalog.schema import MethodSpec
from connections.errors import OnrampError, with_headers
from connections.flow.steps.base import FlowStep, StepIncomplete
from connections.flow.views.base import (
    HtmxHttpRequest,
    flow_screen,
    flow_url,
    flow_view,
    fragment,
    see_other,
)
from connections.http.middleware import body_limit, declared_body_size
from connections.models import LinkSession
from connections.security.certificates import KINDS, MAX_PEM_BYTES, CertificateError
from connections.services.signing_keys import (
    signing_key_current,
    signing_key_generate,
    signing_key_private_pem,
    signing_key_upload,
)

# Two 64 KiB files, a passphrase and the multipart framing around them.
UPLOAD_MAX_BYTES = 2 * MAX_PEM_BYTES + 16 * 1024


class CertificateStep(FlowStep):
    name = "certificate"
    template = "connect/steps/certificate.html"

    def urlpatterns(self) -> list[Any]:
        base = "<str:link_token>/s/<slug:slug>/<slug:method_id>/certificate/"
        return [
            path(base, section, name="certificate-step"),
            path(base + "generate/", generate, name="certificate-generate"),
            path(base + "upload/", upload, name="certificate-upload"),
            path("<str:link_token>/certificate.pem", download, name="certificate"),
        ]

    def context(self, session: LinkSession, method: MethodSpec) -> dict[str, Any]:
        return {"signing_key": signing_key_current(session)}

    def contribute(
        self, session: LinkSession, method: MethodSpec
    ) -> tuple[dict[str, str], dict[str, str]]:
        key = signing_key_current(session)
        if key is None:
            raise StepIncomplete(_("Make or upload the certificate first (step 1)."))
        config = {
            "certificate_fingerprint": key.fingerprint,
            "certificate_expires": key.not_after.date().isoformat(),
        }
        return config, {"private_key": signing_key_private_pem(key)}


step = CertificateStep()


@require_GET
@flow_screen
def section(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    """The step on its own (htmx), e.g. to choose a different certificate."""
    return _answer(request, session, step.screen_context(request, session, slug, method_id))


@require_POST
@flow_screen
def generate(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    context = step.screen_context(request, session, slug, method_id)
    kind = request.POST.get("kind", "ec")
    try:
        signing_key_generate(session=session, kind=kind if kind in KINDS else "ec")
    except OnrampError as exc:
        return with_headers(_answer(request, session, context, exc.message, exc.status), exc)
    return _answer(request, session, context)


@require_POST
@sensitive_post_parameters()  # a key's passphrase, the key itself in the frames below
@sensitive_variables()
@flow_screen
@body_limit(UPLOAD_MAX_BYTES)
def upload(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    context = step.screen_context(request, session, slug, method_id)
    if declared_body_size(request) > UPLOAD_MAX_BYTES:
        message = _("These files are too large: a certificate or key file is at most 64 KiB.")
        return _answer(request, session, context, message, status=413)
    try:
        signing_key_upload(
            session=session,
            certificate=_read(request.FILES.get("certificate"), _("the certificate file")),
            private_key=_read(request.FILES.get("private_key"), _("the private key file")),
            passphrase=request.POST.get("passphrase", "")[:1024],
        )
    except CertificateError as exc:
        return _answer(request, session, context, exc.message, status=422)
    except OnrampError as exc:
        return with_headers(_answer(request, session, context, exc.message, exc.status), exc)
    return _answer(request, session, context)


def _read(upload: UploadedFile | None, what: str) -> bytes:
    if upload is None or upload.size == 0:
        raise CertificateError(_("Choose %(what)s to upload.") % {"what": what})
    return upload.read(MAX_PEM_BYTES + 1)


def _answer(
    request: HtmxHttpRequest,
    session: LinkSession,
    context: dict,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """htmx: the certificate section again; full page: back to the details screen."""
    slug, method = context["system"].slug, context["method"]
    if not error and not request.htmx:
        return see_other(flow_url(request, "details", slug, method.id))
    context = context | {
        "certificate_error": error,
        "signing_key": signing_key_current(session),
        "choose_again": request.GET.get("certificate") == "new",
    }
    return fragment(request, session, step.template, context, status=status)


@require_GET
@flow_view
def download(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    """The public certificate to upload in the customer's system (never the private key)."""
    key = signing_key_current(session)
    if key is None:
        raise Http404("No certificate yet.")
    response = HttpResponse(key.certificate_pem, content_type="application/x-pem-file")
    filename = f"onramp-certificate-{key.created_at:%Y%m%d}.pem"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
