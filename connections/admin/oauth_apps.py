"""Partners' apps in the operators' admin (OAuth clients, and app keys for systems whose calls
carry the integrator's key): the secret can be set, never read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from connections.admin.base import OperatorAdmin, actor_of
from connections.models import OAuthApp
from connections.services.oauth import oauth_app_set, redirect_uri, takes_app


class OAuthAppForm(forms.ModelForm):
    client_secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted; never shown again. Enter it again to change it."),
    )

    class Meta:
        model = OAuthApp
        fields = ["partner", "system", "client_id"]

    def clean_system(self) -> str:
        system = self.cleaned_data["system"]
        if not takes_app(system):
            raise forms.ValidationError(_("This system has no method that uses your app."))
        return system


@admin.register(OAuthApp)
class OAuthAppAdmin(OperatorAdmin):
    form = OAuthAppForm
    # The form's own write-only field, not the model's (non-editable) ciphertext: without
    # this the add page failed with a FieldError.
    exclude = ["client_secret"]
    list_display = ["system", "partner", "client_id", "updated_at"]
    list_filter = ["system", "partner"]
    readonly_fields = ["redirect_uri"]

    @method_decorator(sensitive_post_parameters("client_secret"))
    @sensitive_variables()  # hidden from error reports (http/error_reports.py)
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("Redirect URI to register in the app"))
    def redirect_uri(self, app: OAuthApp) -> str:
        return redirect_uri()

    def save_model(self, request: HttpRequest, obj: OAuthApp, form: Any, change: bool) -> None:
        saved = oauth_app_set(
            partner=form.cleaned_data["partner"],
            system=form.cleaned_data["system"],
            client_id=form.cleaned_data["client_id"],
            client_secret=form.cleaned_data["client_secret"],
            actor=actor_of(request),
        )
        obj.pk = saved.pk
