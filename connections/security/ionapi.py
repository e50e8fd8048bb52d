"""Infor's ``.ionapi`` credentials file, read strictly.

Infor OS (ION API > Authorized Apps > a *Backend Service* app > Download Credentials, with
*Create Service Account*) gives a small JSON file: the tenant (``ti``), the app's name
(``cn``), its client id and secret (``ci``, ``cs``), the gateway's base URL (``iu``), the
authorization server's base URL (``pu``) with the token and revoke endpoints' names (``ot``,
``or``), and the service account's access and secret keys (``saak``, ``sask``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

MAX_BYTES = 64 * 1024
REQUIRED = ("ti", "cn", "ci", "cs", "iu", "pu", "ot")


class IonFileError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IonFile:
    tenant: str
    app_name: str
    ion_url: str
    token_url: str
    client_id: str
    client_secret: str
    access_key: str
    secret_key: str

    def config(self) -> dict[str, str]:
        """What may be shown and stored as plain config."""
        return {
            "tenant": self.tenant,
            "app_name": self.app_name,
            "ion_url": self.ion_url,
            "token_url": self.token_url,
        }

    def secrets(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
        }


def parse_ionapi(data: bytes) -> IonFile:
    """Read a ``.ionapi`` file; raise ``IonFileError`` saying what is wrong and what to do."""
    fields = _json_object(data)
    if "saak" not in fields or "sask" not in fields:
        raise IonFileError(_no_service_account(web_app="ru" in fields))
    missing = [key for key in REQUIRED if not isinstance(fields.get(key), str) or not fields[key]]
    if missing:
        raise IonFileError(
            _("This .ionapi file is incomplete (no “%(key)s”). Download the credentials again.")
            % {"key": missing[0]}
        )
    return IonFile(
        tenant=fields["ti"],
        app_name=fields["cn"],
        ion_url=_https(fields["iu"]).rstrip("/"),
        token_url=_https(fields["pu"]) + fields["ot"],
        client_id=fields["ci"],
        client_secret=fields["cs"],
        access_key=str(fields["saak"]),
        secret_key=str(fields["sask"]),
    )


def _json_object(data: bytes) -> dict:
    if len(data) > MAX_BYTES:
        raise IonFileError(_("This file is too large to be an .ionapi file (at most 64 KiB)."))
    try:
        fields = json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError):  # not UTF-8 or JSON, nested too deep, a huge number
        fields = None
    if not isinstance(fields, dict) or "ti" not in fields:
        raise IonFileError(
            _(
                "This is not an .ionapi file. Download it in Infor OS: ION API > Authorized "
                "Apps > your Backend Service app > Download Credentials."
            )
        )
    return fields


def _no_service_account(*, web_app: bool) -> str:
    if web_app:
        return _(
            "This .ionapi file belongs to a web application, which has no service account. "
            "Create a Backend Service app in ION API > Authorized Apps and download its "
            "credentials with “Create Service Account” turned on."
        )
    return _(
        "This .ionapi file has no service account. Download the credentials again with "
        "“Create Service Account” turned on, and choose the user the integration acts as."
    )


def _https(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise IonFileError(
            _("This .ionapi file has an address that is not https. Download it again.")
        )
    return url
