"""Credential files dropped in the flow (Infor ``.ionapi``): checked, kept encrypted."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from connections.events import EventKind
from connections.models import CredentialFile, LinkSession
from connections.security import crypto
from connections.security.ionapi import parse_ionapi
from connections.security.ratelimit import Limit, enforce
from connections.services.audit import event_record


@sensitive_variables()  # the file's secrets (http/error_reports.py)
@transaction.atomic
def credential_file_upload(*, session: LinkSession, data: bytes) -> CredentialFile:
    """Read an ``.ionapi`` file (raises ``IonFileError``) and keep it; the newest one wins."""
    enforce(
        (
            Limit(
                f"onramp:credential-file:{session.pk}",
                settings.ONRAMP_KEY_UPLOADS_PER_SESSION_MINUTE,
                60,
            ),
            _("You just uploaded a file. Wait a moment and try again."),
        )
    )
    parsed = parse_ionapi(data)
    record = CredentialFile(link_session=session, kind="ionapi", summary=parsed.config())
    record.secrets = crypto.seal(parsed.secrets(), aad=crypto.associated_data(record, "secrets"))
    record.save()
    session.credential_files.exclude(pk=record.pk).delete()
    event_record(
        partner=session.partner,
        kind=EventKind.CREDENTIAL_FILE_UPLOADED,
        actor=f"end_user:{session.end_user_id}",
        link_session=session,
        data={"kind": record.kind, "tenant": parsed.tenant, "app_name": parsed.app_name},
    )
    return record


def credential_file_current(session: LinkSession) -> CredentialFile | None:
    return session.credential_files.order_by("-created_at").first()


def credential_file_secrets(record: CredentialFile) -> dict[str, str]:
    return crypto.unseal(record.secrets, aad=crypto.associated_data(record, "secrets"))
