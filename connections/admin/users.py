"""Operators' own accounts: Django's user and group pages, with the same rule as every other
page (an action one may not run is refused with 403)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from connections.admin.base import OperatorAdmin


class OperatorUserAdmin(OperatorAdmin, UserAdmin):
    pass


class OperatorGroupAdmin(OperatorAdmin, GroupAdmin):
    pass


admin.site.unregister(User)
admin.site.register(User, OperatorUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, OperatorGroupAdmin)
