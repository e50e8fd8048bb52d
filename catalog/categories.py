"""The categories the choose screen offers before anyone types, in the order shown.

A definition's ``categories`` may name others (``demo``, ``eam`` beside ``cmms``); only these
get a button. Labels are what an end user calls the kind of system, not our slugs.
"""

from django.utils.translation import gettext_lazy as _

CATEGORIES = {
    "erp": _("ERP"),
    "accounting": _("Accounting"),
    "inventory": _("Inventory"),
    "wms": _("Warehouse (WMS)"),
    "3pl": _("3PL"),
    "oms": _("Orders and shipping"),
    "commerce": _("Commerce"),
    "cmms": _("Maintenance (CMMS)"),
    "eam": _("Assets and fleet (EAM)"),
}
