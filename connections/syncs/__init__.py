"""Syncs: the customer's records read into Onramp's unified models, for partners to list.

``schemas.py`` (the unified models) · ``models.py`` (what is stored) · ``mapping.py`` (a
system's record → a unified one, as its definition says) · ``pages.py`` (pagination styles)
· ``engine.py`` (one run, page by page) · ``runs.py`` (the services tasks and the API call) ·
``selectors.py`` (the partner API's reads) · ``fields.py`` (the README's generated field
tables, ``manage.py sync_field_tables``). Definitions declare what to read:
``catalog/mappings.py``.
"""
