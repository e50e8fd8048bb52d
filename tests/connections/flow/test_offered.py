"""No dead ends (issue 18): the flow offers only what works for this partner, guides say
what they show, and failure and lock screens lead somewhere."""

import re

import pytest

from connections.models import LinkSession
from tests.factories import practice_sign_in

pytestmark = pytest.mark.django_db
INFOPLUS = "s/infoplus/api_key/details/"


def text(response) -> str:
    return response.content.decode()


# --- 1. never offer a road the partner has not built ------------------------------------------


def test_a_sign_in_without_the_partners_oauth_app_is_not_offered(end_user):
    user = end_user()
    methods = user.get("s/sandbox-erp/")  # the sign-in waits for the partner's app: one left
    assert methods.status_code == 302 and methods["Location"].endswith("s/sandbox-erp/password/")
    assert user.get("s/sandbox-erp/sign_in/").status_code == 404
    assert user.get("s/sandbox-erp/sign_in/details/").status_code == 404
    assert user.post("s/sandbox-erp/sign_in/sign-in/", {"company": "demo"}).status_code == 404


def test_a_system_with_no_usable_method_is_not_in_the_catalog(end_user):
    user = end_user()
    assert 'id="system-option-xero"' not in text(user.get("systems/?q=xero"))
    assert "system-option-quickbooks" not in text(user.get("systems/?q=quickbooks"))
    assert "Infoplus" in text(user.get("systems/?q=infoplus"))
    assert user.get("s/xero/").status_code == 404


def test_searching_for_a_system_not_offered_says_so_instead_of_blaming_the_spelling(end_user):
    page = text(end_user().get("systems/?q=quickbooks"))
    assert "Acme does not offer QuickBooks Online here yet. Tell them below" in page
    assert "Check the spelling" not in page
    assert "Check the spelling" in text(end_user().get("systems/?q=zzqqxx"))


def test_registering_the_app_offers_the_sign_in(acme, end_user):
    practice_sign_in(acme.partner)
    page = text(end_user().get("s/sandbox-erp/"))
    assert "Username and password" in page and "Sign in with Sandbox ERP" in page


def test_a_link_for_only_systems_not_offered_says_so_and_leads_back(end_user):
    user = end_user(systems=["xero"])
    page = user.get()
    assert page.status_code == 409
    html = text(page)
    assert "This connection is not available yet" in html
    assert 'data-onramp-closed="oauth_app_missing"' in html  # ERROR for the partner's page
    assert "Back to Acme" in html and "data-onramp-close" in html


# --- 3. guides say what they show -------------------------------------------------------------


def test_guide_steps_are_numbered_as_the_texts_refer_to_them(end_user):
    page = text(end_user().get("s/netsuite/m2m/"))
    numbered = re.findall(r"Step (\d+)</span> <strong>([^<]+)</strong>", page)
    assert numbered[2] == ("3", "Tick Web Services Only Role (recommended)")
    assert numbered[4][0] == "5" and "integration record" in numbered[4][1]
    assert "repeat steps 5 and 6 there" in page


def test_alternatives_are_choices_not_steps_to_tick(end_user):
    page = text(end_user().get("s/sandbox-erp/password/"))
    assert "Choose one" in page
    assert "Use the demo company" in page and "Or try a failure on purpose" in page
    assert 'type="checkbox"' not in page


def test_a_sign_in_with_nothing_to_prepare_skips_its_guide(acme, end_user):
    practice_sign_in(acme.partner)
    user = end_user()
    methods = text(user.get("s/sandbox-erp/"))
    assert f'href="{user.base}s/sandbox-erp/sign_in/details/"' in methods  # straight on
    skipped = user.get("s/sandbox-erp/sign_in/")
    assert skipped["Location"].endswith("s/sandbox-erp/sign_in/details/")
    details = text(user.get("s/sandbox-erp/sign_in/details/"))
    assert "No password is needed in this practice system" in details  # what to expect
    assert f'href="{user.base}s/sandbox-erp/"' in details  # Back: to the methods, not the guide
    user.session.refresh_from_db()
    assert user.session.method_chosen == "sign_in" and user.session.guide_viewed_at is None


# --- 4. failure and lock screens lead somewhere -----------------------------------------------


def failed_page(user, api_key: str = "bad") -> str:
    sent = user.submit(INFOPLUS, {"site": "acme", "api_key": api_key})
    return text(user.get(sent["Location"]))


def test_a_failure_is_titled_as_one_and_offers_a_way_back(end_user, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    page = failed_page(end_user())
    assert "Could not connect to Infoplus" in page and "Connecting to Infoplus" not in page
    assert "Edit details and try again" in page
    assert re.search(r"<button[^>]*data-onramp-close[^>]*>Back to Acme</button>", page)


def test_the_poll_that_sees_the_failure_retitles_the_screen(end_user, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user = end_user()
    sent = user.submit(INFOPLUS, {"site": "acme", "api_key": "bad"})
    poll = text(user.get(sent["Location"].removeprefix(user.base) + "?poll=1", htmx=True))
    assert re.search(r'<h1 id="screen-title"[^>]*hx-swap-oob="true">Could not connect to', poll)


def test_tries_left_show_only_near_the_limit(end_user, fake_systems, settings):
    settings.ONRAMP_SESSION_MAX_FAILURES = 8
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user = end_user()
    pages = [failed_page(user) for _ in range(5)]
    assert not any("more time" in page or "once more" in page for page in pages[:4])
    assert "You can try 3 more times before this link locks" in pages[4]


def test_a_missing_permission_offers_the_admin_hand_off_not_a_countdown(
    end_user, fake_systems, settings
):
    settings.ONRAMP_SESSION_MAX_FAILURES = 2
    fake_systems.infoplus.sites["acme"] = {"key-ro"}
    fake_systems.infoplus.read_only_keys.add("key-ro")
    page = failed_page(end_user(), "key-ro")
    assert "more time" not in page and "once more" not in page
    assert "Ask your administrator" in page and 'data-onramp-handoff="email"' in page
    assert "/guides/infoplus/api_key/" in page  # the setup steps go with it
    assert "Line%20of%20Business%3A%20read" in page  # and what is missing, in the e-mail


def test_the_lock_says_so_leads_back_and_tells_the_partner(end_user, fake_systems, settings):
    settings.ONRAMP_SESSION_MAX_FAILURES = 1
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    page = failed_page(end_user())
    assert "<h1" in page and "This link is locked</h1>" in page
    assert "Connecting to Infoplus" not in page and "Ask for a new link" not in page
    assert 'data-onramp-closed="locked"' in page  # flow.js: ERROR locked, onExit's error
    assert re.search(r"<button[^>]*data-onramp-close[^>]*>Back to Acme</button>", page)
    assert "Edit details and try again" not in page


def test_leaving_a_locked_hosted_link_without_a_return_address(end_user):
    user = end_user()
    LinkSession.objects.filter(pk=user.session.pk).update(locked_at=user.session.created_at)
    page = text(user.post("exit/", {"hosted": "1"}))
    assert "This link is locked" in page and "You can close this window." in page
    assert "Back to Acme" not in page  # no button back to this very screen


def test_a_screen_of_a_method_no_longer_offered_is_not_resumed(acme, end_user):
    practice_sign_in(acme.partner)
    user = end_user()
    user.get("s/sandbox-erp/sign_in/details/")
    acme.partner.oauth_apps.all().delete()  # the partner withdrew its app meanwhile
    resumed = user.get()
    assert resumed.status_code == 200 and "Which system do you use?" in text(resumed)


def test_a_method_with_nothing_to_prepare_has_no_guide_to_share(catalog, client):
    assert client.get("/guides/sandbox-erp/sign_in/").status_code == 404
    assert client.get("/guides/sandbox-erp/password/").status_code == 200
