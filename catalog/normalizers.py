"""Turn what a user pastes into the value a definition needs.

Users paste whole URLs where we ask for a site name, add spaces, change case. Each
normaliser accepts the forms a user would reasonably give and raises ``FieldError`` with a
message saying what we expected otherwise. The registry is a plain dict.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import idna
from django.utils.translation import gettext as _

from catalog.i18n import translated
from catalog.schema import FieldSpec


class FieldError(ValueError):
    """A value the user gave that cannot be used; the message is safe to show."""


_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def text(value: str, spec: FieldSpec) -> str:
    return value.strip()


def subdomain(value: str, spec: FieldSpec) -> str:
    """``acme``, ``acme.example.com`` or ``https://acme.example.com/...`` → ``acme``."""
    host = _host_of(value.strip().lower())
    suffix = f".{spec.domain}"
    if host.endswith(suffix):
        host = host[: -len(suffix)]
    if not _LABEL.match(host):
        raise FieldError(
            _("Enter just the first part of your address, like “acme” in acme.%(domain)s.")
            % {"domain": spec.domain}
        )
    return host


def hostname(value: str, spec: FieldSpec) -> str:
    """``erp.example.com`` or ``https://erp.example.com/path`` → ``erp.example.com``."""
    host = _host_of(value.strip().lower())
    if not _HOSTNAME.match(host):
        raise FieldError(_("Enter the address of your system, like erp.example.com."))
    return host


_NETSUITE_ACCOUNT = re.compile(r"^(?=[a-z_-]*\d)[a-z0-9]{3,24}(?:[-_](?:sb\d{1,2}|rp))?$")


def netsuite_account(value: str, spec: FieldSpec) -> str:
    """``1234567``, ``1234567_sb1``, ``1234567-SB1`` or a pasted NetSuite URL → ``1234567_SB1``.

    The UI (``…app.netsuite.com``), SuiteTalk and RESTlet hosts all start with the account
    label; NetSuite writes the id with ``_`` and uppercase, and the host with ``-`` lowercase.
    """
    text = value.strip().lower()
    if "." in text or "/" in text:
        host = _host_of(text)
        if not host.endswith(".netsuite.com"):
            raise FieldError(_netsuite_help())
        text = host.split(".", 1)[0]
    if not _NETSUITE_ACCOUNT.match(text):
        raise FieldError(_netsuite_help())
    return text.replace("-", "_").upper()


_MANHATTAN = re.compile(r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.([a-z0-9]{2,20})\.manh\.com$")


def manhattan_host(value: str, spec: FieldSpec) -> str:
    """``https://acme.sce.manh.com/...``, ``acme-auth.sce.manh.com`` → ``acme.sce.manh.com``.

    A Manhattan Active environment lives on a platform domain (``omni``, ``sce``, ``scp``
    .manh.com), and its sign-in on the same name with ``-auth``: both come from the one
    address the user opens, so neither the platform nor the auth host is guessed.
    """
    host = _host_of(value.strip().lower())
    found = _MANHATTAN.match(host)
    if not found:
        raise FieldError(
            _("Paste the address you open Manhattan Active at, like https://acme.sce.manh.com.")
        )
    unique_id = found.group(1).removesuffix("-auth")
    return f"{unique_id}.{found.group(2)}.manh.com"


def url(value: str, spec: FieldSpec) -> str:
    """The address of a customer's own instance, from any URL of it they paste.

    ``acme.odoo.com``, ``https://acme.odoo.com/odoo/action-12`` → ``https://acme.odoo.com``:
    https only, the host IDNA-normalised and lower-cased, a non-default port kept, the path
    kept only up to the definition's ``path_markers``. Whether the address may be reached
    (not private, not reserved) is decided where requests are made.
    """
    text = value.strip()
    if not text:
        return ""
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
        host = _idna(parts.hostname or "")
    except (ValueError, UnicodeError, idna.IDNAError):
        raise FieldError(_url_help()) from None
    if parts.scheme != "https":
        raise FieldError(_("Use the https:// address: Onramp connects over https only."))
    if not host or parts.username is not None or "@" in parts.netloc:
        raise FieldError(_url_help())
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return f"https://{netloc}{_instance_path(parts.path, spec.path_markers)}"


def _idna(host: str) -> str:
    host = host.rstrip(".").lower()
    return host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")


def _instance_path(path: str, markers: tuple[str, ...]) -> str:
    segments = [segment for segment in path.split("/") if segment]
    wanted = {marker.lower() for marker in markers}
    for at, segment in enumerate(segments):
        if segment.lower() in wanted:
            return "/" + "/".join(segments[:at]) if at else ""
    return ""


def _url_help() -> str:
    return _("Enter the address you open your system at, like https://erp.example.com.")


def _netsuite_help() -> str:
    return _(
        "Enter your NetSuite account ID, like 1234567 or 1234567_SB1 (Setup > Company > "
        "Company Information), or paste the address of your NetSuite page."
    )


def _host_of(value: str) -> str:
    if "://" in value:
        try:
            return (urlsplit(value).hostname or "").rstrip(".")
        except ValueError:
            return ""
    return value.split("/", 1)[0].split(":", 1)[0].rstrip(".")


Normalizer = Callable[[str, FieldSpec], str]

NORMALIZERS: dict[str, Normalizer] = {
    "text": text,
    "subdomain": subdomain,
    "hostname": hostname,
    "netsuite_account": netsuite_account,
    "manhattan_host": manhattan_host,
    "url": url,
}

# Values derived from a normalised field, usable in a definition's templates as
# ``{<field>_<suffix>}`` (e.g. ``{account_host}`` → ``1234567-sb1``).
DERIVATIONS: dict[str, dict[str, Callable[[str], str]]] = {
    "netsuite_account": {"host": lambda account: account.lower().replace("_", "-")},
    # acme.sce.manh.com → acme-auth.sce.manh.com
    "manhattan_host": {"auth_host": lambda host: host.replace(".", "-auth.", 1)},
}


def derived_names(specs: tuple[FieldSpec, ...]) -> set[str]:
    return {
        f"{spec.name}_{suffix}" for spec in specs for suffix in DERIVATIONS.get(spec.normalize, {})
    }


def with_derived(specs: tuple[FieldSpec, ...], config: dict[str, str]) -> dict[str, str]:
    """``config`` plus the values its fields derive (for templates and auth schemes)."""
    extra = {
        f"{spec.name}_{suffix}": derive(config[spec.name])
        for spec in specs
        if spec.name in config
        for suffix, derive in DERIVATIONS.get(spec.normalize, {}).items()
    }
    return {**config, **extra}


def normalize(value: str, spec: FieldSpec) -> str:
    """Normalise and check one field value; raise ``FieldError`` with a message to show."""
    if len(value) > spec.max_length:
        raise FieldError(
            _("This is too long (at most %(count)d characters).") % {"count": spec.max_length}
        )
    cleaned = NORMALIZERS[spec.normalize](value, spec)
    if not cleaned:
        if spec.optional:
            return ""
        raise FieldError(_("This field is required."))
    if spec.pattern and not re.fullmatch(spec.pattern, cleaned):
        raise FieldError(translated(spec.pattern_message) or _("This value does not look right."))
    return cleaned
