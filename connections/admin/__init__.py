"""The operators' admin (Django's admin site): one module per page or group of pages.

Importing this package registers every page. Page modules import only ``admin/base.py`` and
services, never each other. State changes go through services (audited); secrets never
appear: ciphertext fields are not editable and not listed, tokens show their prefix only.
"""

from connections.admin import (  # noqa: F401 (each module registers its pages)
    catalog,
    connections,
    events,
    funnel,
    link_sessions,
    oauth_apps,
    partners,
    webhooks,
)
