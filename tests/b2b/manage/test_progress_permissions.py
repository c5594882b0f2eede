"""Who reaches the progress pages: a manager of organization A gets 404 for organization B's
progress page, CSV, refresh, nudges and digest choice; anonymous visitors are sent to sign in;
and the weekly digest choice changes the signed-in manager's own role only."""

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup

from b2b.models import ContractProgress, OrganizationManager, ProgressDigest
from b2b.selectors.progress_delivery import digest_history
from b2b.services.invitations.managers import grant_manager
from tests.ecommerce import helpers as h
from tests.support.forms import BrowserForm

pytestmark = pytest.mark.django_db


def _urls(orgs, contract):
    c = contract.pk
    return {
        "get": [f"/manage/contracts/{c}/progress/", f"/manage/contracts/{c}/progress.csv"],
        "post": [f"/manage/contracts/{c}/progress/refresh/"],  # the nudges: test_progress_nudges
    }


def test_anonymous_visitors_are_sent_to_sign_in(client, orgs):
    urls = _urls(orgs, orgs.contract_a)
    for url in [*urls["get"]]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=/manage/"), url
    for url in [
        f"/manage/contracts/{orgs.contract_a.pk}/progress/refresh/",
        f"/manage/organizations/{orgs.a.pk}/digest/",
    ]:
        response = client.post(url, {"wants_digest": "on", "back": "contract"})
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=/manage/"), url
    assert not ContractProgress.objects.exists()
    assert not OrganizationManager.objects.filter(wants_digest=True).exists()


def test_other_organizations_progress_pages_are_404(manager_client, orgs):
    urls = _urls(orgs, orgs.contract_b)
    for url in urls["get"]:
        assert manager_client.get(url).status_code == 404, url
    for url in [*urls["post"], "/manage/contracts/999999/progress/refresh/"]:
        assert manager_client.post(url, {"back": "contract"}).status_code == 404, url
    assert manager_client.get("/manage/contracts/999999/progress/").status_code == 404
    assert not ContractProgress.objects.exists()


def test_another_organizations_digest_choice_is_404_and_unchanged(manager_client, orgs):
    other = h.learner("boss@borealis.example")
    role_b, _ = grant_manager(user=other, organization=orgs.b)
    response = manager_client.post(
        f"/manage/organizations/{orgs.b.pk}/digest/", {"wants_digest": "on"}
    )
    assert response.status_code == 404
    role_b.refresh_from_db()
    assert role_b.wants_digest is False


def test_a_user_who_manages_nothing_gets_403_or_404(client, orgs):
    client.force_login(h.learner("nobody@example.com"))
    assert client.get(f"/manage/contracts/{orgs.contract_a.pk}/progress/").status_code == 404
    assert client.post(f"/manage/organizations/{orgs.a.pk}/digest/", {}).status_code == 403


def test_the_pages_are_reached_from_the_contract_page_and_the_breadcrumb(manager_client, orgs):
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/"
    html = manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/").content.decode()
    assert f'href="{url}"' in html
    soup = BeautifulSoup(manager_client.get(url).content.decode(), "html.parser")
    crumbs = soup.select_one('nav[aria-label="Breadcrumb"]')
    assert [a.get_text() for a in crumbs.find_all("a")] == [
        "Manage",
        "Acme University",
        "Acme Leadership",
        "Progress",
    ]
    assert crumbs.find("a", attrs={"aria-current": "page"})["href"] == url


def test_get_is_refused_on_the_write_urls(manager_client, orgs):
    assert manager_client.get(f"/manage/organizations/{orgs.a.pk}/digest/").status_code == 405


# The weekly digest choice


def test_the_digest_opt_in_changes_only_the_managers_own_role(manager_client, orgs):
    # The same manager in organization B, and another manager of A: neither changes.
    own_b, _ = grant_manager(user=orgs.manager, organization=orgs.b)
    colleague, _ = grant_manager(user=h.learner("co@acme.example"), organization=orgs.a)
    overview = f"/manage/organizations/{orgs.a.pk}/"
    form = BrowserForm(manager_client.get(overview).content.decode(), form_id="digest-form")
    assert form.names() == {"csrfmiddlewaretoken", "wants_digest"}
    assert form.data().get("wants_digest") is None  # off by default
    form.tick("wants_digest")
    response = manager_client.post(form.action, form.data(), follow=True)
    assert response.redirect_chain == [(f"{overview}#digest", 302)]
    assert "You will receive a weekly progress digest of Acme University." in (
        response.content.decode()
    )
    role = OrganizationManager.objects.get(user=orgs.manager, organization=orgs.a)
    assert role.wants_digest is True
    own_b.refresh_from_db()
    colleague.refresh_from_db()
    assert (own_b.wants_digest, colleague.wants_digest) == (False, False)

    # The page now shows it ticked; unticking it (the browser sends no field) turns it off.
    form = BrowserForm(response.content.decode(), form_id="digest-form")
    assert form.data()["wants_digest"] == ["on"]
    unticked = {k: v for k, v in form.data().items() if k != "wants_digest"}
    manager_client.post(form.action, unticked)
    role.refresh_from_db()
    assert role.wants_digest is False


def test_the_overview_lists_the_managers_last_digests(manager_client, orgs):
    role = OrganizationManager.objects.get(user=orgs.manager, organization=orgs.a)
    for day in range(1, 7):
        ProgressDigest.objects.create(
            manager=role,
            week_of=date(2026, 5, 3) + timedelta(weeks=day),
            to=orgs.manager.email,
            state="failed" if day == 6 else "sent",
            last_error="550 mailbox <unavailable>" if day == 6 else "",
        )
    other, _ = grant_manager(user=h.learner("co@acme.example"), organization=orgs.a)
    ProgressDigest.objects.create(manager=other, week_of=date(2026, 7, 6), to="co@acme.example")
    assert [d.week_of for d in digest_history(role)] == [
        date(2026, 6, 14),
        date(2026, 6, 7),
        date(2026, 5, 31),
        date(2026, 5, 24),
    ]
    html = manager_client.get(f"/manage/organizations/{orgs.a.pk}/").content.decode()
    soup = BeautifulSoup(html, "html.parser")
    rows = [
        [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in soup.select("#digest tbody tr")
    ]
    assert [r[0] for r in rows] == ["Jun 14, 2026", "Jun 7, 2026", "May 31, 2026", "May 24, 2026"]
    assert rows[0][1:] == ["Failed", "—", "550 mailbox <unavailable>"]
    assert "550 mailbox &lt;unavailable&gt;" in html
    assert "Jul 6, 2026" not in html  # a colleague's digest
