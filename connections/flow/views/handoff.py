"""The hand-off to a colleague with administrator rights in the customer's system: "send these
steps to my administrator" on a guide, and what is missing after a failure only they can fix."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from catalog.schema import MethodSpec
from connections.flow.views.base import HtmxHttpRequest


def handoff_context(
    request: HtmxHttpRequest, name: str, slug: str, method: MethodSpec, problem: str = ""
) -> dict[str, str]:
    """What "send to my administrator" sends: the method's setup steps (a public page, in
    this language) and, after a failure only an administrator can fix, what is missing."""
    guide_url = ""
    if method.has_guide:
        path = f"{reverse('guide', args=[slug, method.id])}?lang={translation.get_language()}"
        guide_url = request.build_absolute_uri(path)
    if problem:
        body = _(
            "Hi, connecting %(name)s for our integration failed: %(problem)s Could you fix this?"
        ) % {"name": name, "problem": problem}
        body = f"{body} {guide_url}".strip()
    else:
        body = _("Hi, could you do these %(name)s setup steps for our integration? %(url)s") % {
            "name": name,
            "url": guide_url,
        }
    return {
        "guide_url": guide_url,
        "share_subject": _("Please set up %(name)s for our integration") % {"name": name},
        "share_body": body,
    }
