"""The unified models in the end user's words: "Acme will read your purchase orders and
vendors" on the flow's first screen."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connections.syncs.schemas import SyncModel

NOUNS = {
    SyncModel.PURCHASE_ORDERS: gettext_lazy("purchase orders"),
    SyncModel.VENDORS: gettext_lazy("vendors"),
    SyncModel.ITEMS: gettext_lazy("items"),
    SyncModel.WORK_ORDERS: gettext_lazy("work orders"),
}


def models_in_words(models: list[str]) -> str:
    """``["purchase_orders", "vendors"]`` → "purchase orders and vendors" (in the active
    language); empty for none."""
    nouns = [str(NOUNS[SyncModel(model)]) for model in models]
    if len(nouns) < 2:
        return "".join(nouns)
    # Translators: the last two of a list of things Onramp reads ("vendors and items").
    return _("{first} and {last}").format(first=", ".join(nouns[:-1]), last=nouns[-1])
