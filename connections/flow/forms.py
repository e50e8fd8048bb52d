"""The details form, built from a system definition's fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from catalog.i18n import translated
from catalog.normalizers import FieldError, normalize
from catalog.schema import FieldSpec
from connections.agents.reach import plausible_private_instance
from connections.outbound.addresses import check_url
from connections.outbound.errors import OutboundError


class DetailsForm(forms.Form):
    """Instance fields and credentials. Secrets are never rendered back into the page."""

    def __init__(
        self,
        *args: Any,
        specs: tuple[FieldSpec, ...],
        secrets_on_file: frozenset[str] = frozenset(),
        on_premises: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.specs = specs
        self.on_premises = on_premises  # a private address is reached through the agent
        self.secrets_on_file = secrets_on_file
        for spec in specs:
            self.fields[spec.name] = _form_field(spec, on_file=spec.name in secrets_on_file)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for spec in self.specs:
            value = cleaned.get(spec.name)
            if value is None or (
                spec.secret and value == "" and spec.name in self.secrets_on_file
            ):
                continue
            try:
                cleaned[spec.name] = normalize(value, spec)
                if spec.normalize == "url" and cleaned[spec.name]:
                    self._check_reach(cleaned[spec.name])
            except FieldError as exc:
                self.add_error(spec.name, str(exc))
        return cleaned

    def _check_reach(self, url: str) -> None:
        if not (self.on_premises and plausible_private_instance(url)):
            _reachable_by_policy(url)

    def split(self) -> tuple[dict[str, str], dict[str, str]]:
        """(config, credentials): non-secret values and secret ones (blank = keep on file)."""
        config = {s.name: self.cleaned_data[s.name] for s in self.specs if not s.secret}
        secret = {s.name: self.cleaned_data[s.name] for s in self.specs if s.secret}
        return config, secret


def _reachable_by_policy(url: str) -> None:
    """An instance address Onramp may connect to: not private, loopback or reserved."""
    try:
        check_url(url + "/")
    except OutboundError:
        raise FieldError(
            _(
                "This address is private or reserved, so Onramp cannot reach it. Use the public "
                "address your system is reachable at from the internet."
            )
        ) from None


class SecretTextarea(forms.Textarea):
    """A textarea (for PEM keys) that, like a password input, never renders its value."""

    def format_value(self, value: Any) -> None:
        return None


class UnrenderedTextInput(forms.TextInput):
    """A visible input for a credential that is not a secret (a key's id): as with secrets, a
    submitted value is never rendered back into the page."""

    def format_value(self, value: Any) -> None:
        return None


def _form_field(spec: FieldSpec, *, on_file: bool) -> forms.CharField:
    attrs = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
    if spec.placeholder:
        attrs["placeholder"] = spec.placeholder
    if not spec.secret:
        attrs["data-draft"] = ""  # kept as typed, to resume with (see flow.js)
    if spec.secret and spec.multiline:
        widget = SecretTextarea(attrs={**attrs, "rows": 5})
    elif spec.secret and spec.masked:
        widget = forms.PasswordInput(attrs=attrs, render_value=False)
    elif spec.secret:  # an identifier kept with the credentials: readable as typed
        widget = UnrenderedTextInput(attrs=attrs)
    elif spec.multiline:
        widget = forms.Textarea(attrs={**attrs, "rows": 4})
    else:
        widget = forms.TextInput(attrs=attrs)
    field = forms.CharField(
        label=translated(spec.label),
        help_text=_("Leave it blank to try the same one again, or type a new one.")
        if on_file
        else translated(spec.help),
        max_length=spec.max_length,
        required=not (spec.optional or on_file),
        strip=not spec.secret,
        widget=widget,
        error_messages={"required": _("This field is required.")},
    )
    field.kept_on_file = on_file
    return field
