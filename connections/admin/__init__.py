"""The operators' admin (Django's admin site): one module per page or group of pages.

Importing this package registers every page. Page modules import only ``admin/base.py`` and
services, never each other. Reports (pages that are not a model's) are views on the admin
site, listed in ``REPORTS`` and linked from the admin's index. State changes go through
services (audited); secrets never appear: ciphertext fields are not editable and not listed,
tokens show their prefix only.
"""

from django.contrib import admin
from django.urls import path

from connections.admin import (  # noqa: F401 (each module registers its pages)
    agents,
    catalog,
    connections,
    customers,
    events,
    funnel,
    link_sessions,
    oauth_apps,
    partners,
    users,
    webhooks,
)

# Report pages: (path under /admin/reports/, URL name, view). Each view checks its permission.
REPORTS = [
    ("funnel/", "funnel", funnel.funnel_view),
    ("customer/", "customer", customers.customer_view),
]
report_urls = [
    path(route, admin.site.admin_view(view), name=name) for route, name, view in REPORTS
]
