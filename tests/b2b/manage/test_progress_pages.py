"""The manager's view of learners' progress: the funnel on the contract page and on the progress
page, the per-learner table (columns, filters, sort, search, pages, the queries it costs), the
aggregates-only contract, and the "Refresh from Open edX" button."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from b2b.enums import ProgressVisibility
from b2b.models import AttentionCutoffs, ContractProgress
from courses.models import CourseRun
from tests.support import factories as f
from tests.support.forms import BrowserForm
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db

OLD = timezone.now() - timedelta(days=60)


def _run(contract):
    return CourseRun.objects.filter(b2b_contract=contract).order_by("pk").first()


def _soup(response):
    assert response.status_code == 200
    return BeautifulSoup(response.content.decode(), "html.parser")


def _page(client, contract, query=""):
    return _soup(client.get(f"/manage/contracts/{contract.pk}/progress/{query}"))


def _names(soup):
    return [
        td.get_text(" ", strip=True).split(" Open edX user")[0]
        for td in soup.select('#progress-table td[data-label="Name"]')
    ]


def _cell(soup, row, label):
    tr = soup.select_one(f'#progress-table tr[data-row="{row.pk}"]')
    return tr.select_one(f'td[data-label="{label}"]')


@pytest.fixture
def learners(orgs):
    """Contract A (10 seats): six members with a row each in its run, in these states."""
    contract = orgs.contract_a
    run = _run(contract)
    rows = {}
    states = {
        "ann": {"grade_percent": Decimal("0.9"), "passed": True, "first_passed_on": OLD},
        "bob": {"grade_percent": Decimal("0.95"), "passed": True, "cert_status": "downloadable"},
        "cat": {"grade_percent": Decimal("0.4"), "changed_on": OLD},  # stalled
        "dan": {"enrolled_on": OLD, "grade_percent": Decimal("0")},  # not started, late
        "eve": {"grade_percent": Decimal("0")},  # not started, enrolled yesterday
        "fay": {"grade_percent": Decimal("0.2")},
    }
    for name, fields in states.items():
        user = f.UserFactory(email=f"{name}@acme.example", name=name.title())
        f.ContractMembershipFactory(contract=contract, user=user)
        rows[name] = progress_row(contract, run, user=user, edx_username=name, **fields)
    return rows


# The contract page's Progress section


def test_the_contract_page_shows_the_funnel_with_its_text_equivalent(
    manager_client, orgs, learners
):
    soup = _soup(manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/"))
    section = soup.select_one("section#progress")
    values = {
        row["data-stage"]: row.select_one(".funnel-value").get_text(strip=True)
        for row in section.select(".funnel-row")
    }
    assert values == {
        "invited": "6 (60%)",
        "joined": "6 (60%)",
        "enrolled": "6 (60%)",
        "started": "4 (40%)",
        "passed": "2 (20%)",
        "certified": "1 (10%)",
    }
    widths = [s["style"] for s in section.select(".funnel-bar span")]
    assert widths == ["width: 60%"] * 3 + ["width: 40%", "width: 20%", "width: 10%"]
    chart = section.select_one('[role="img"]')
    text = soup.find(id=chart["aria-labelledby"])
    assert text.get_text() == (
        "Invited: 6 (60%); Joined: 6 (60%); Enrolled: 6 (60%); Started: 4 (40%); "
        "Passed: 2 (20%); Certified: 1 (10%)."
    )
    assert "visually-hidden" in text["class"]
    assert section.select_one('[data-testid="completion-rate"]').get_text() == "33%"
    assert section.select_one('[data-testid="needs-attention"]').get_text() == "2"
    assert (
        section.select_one('[data-testid="as-of"]').get_text(" ", strip=True).startswith("As of ")
    )
    link = section.find("a", href=f"/manage/contracts/{orgs.contract_a.pk}/progress/")
    assert link is not None
    assert not soup.find("script", src=True)  # no chart library, nothing from the network


def test_a_contract_never_synced_says_so(manager_client, orgs):
    soup = _soup(manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/"))
    as_of = soup.select_one('section#progress [data-testid="as-of"]').get_text(strip=True)
    assert as_of == "Not synced from Open edX yet"
    assert soup.select_one('[data-testid="completion-rate"]').get_text() == "none enrolled yet"


# The refresh button


def test_refresh_is_queued_once_and_a_second_within_the_hour_is_refused_with_the_wait(
    manager_client, orgs, django_capture_on_commit_callbacks
):
    contract_url = f"/manage/contracts/{orgs.contract_a.pk}/"
    form = BrowserForm(
        manager_client.get(contract_url).content.decode(), form_id="refresh-progress"
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = manager_client.post(form.action, form.data(), follow=True)
    assert response.redirect_chain == [(f"{contract_url}#progress", 302)]
    assert len(callbacks) == 1
    assert "A refresh from Open edX is queued" in response.content.decode()
    state = ContractProgress.objects.get(contract=orgs.contract_a)
    assert state.refresh_requested_by == orgs.manager

    with django_capture_on_commit_callbacks() as callbacks:
        response = manager_client.post(form.action, form.data(), follow=True)
    assert callbacks == []
    html = response.content.decode()
    assert "refreshed lately; try again in about 60 minutes" in html
    assert "Traceback" not in html


def test_refresh_from_the_progress_page_comes_back_to_it(
    manager_client, orgs, django_capture_on_commit_callbacks
):
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/"
    form = BrowserForm(manager_client.get(url).content.decode(), form_id="refresh-progress")
    with django_capture_on_commit_callbacks():
        response = manager_client.post(form.action, form.data())
    assert response["Location"] == url


def test_refresh_is_post_only(manager_client, orgs):
    url = f"/manage/contracts/{orgs.contract_a.pk}/progress/refresh/"
    assert manager_client.get(url).status_code == 405
    assert not ContractProgress.objects.exists()


# The progress page's table


def test_the_table_shows_each_column(manager_client, orgs, learners):
    bob = learners["bob"]
    bob.cert_url = "https://courses.example/certificates/abc"
    bob.letter_grade = "A"
    bob.first_passed_on = OLD
    bob.last_nudged_on = OLD
    bob.save()
    soup = _page(manager_client, orgs.contract_a)
    headers = [th.get_text(" ", strip=True) for th in soup.select("#progress-table thead th")]
    assert headers == [
        "Remind",
        "Name ▲",
        "E-mail",
        "Run",
        "Enrolled on",
        "Grade",
        "Passed on",
        "Certificate",
        "Last change seen",
        "Needs attention",
        "Last nudged",
    ]
    cells = {
        td["data-label"]: td.get_text(" ", strip=True)
        for td in soup.select_one(f'tr[data-row="{bob.pk}"]').select("td")
    }
    day = OLD.strftime("%b %-d, %Y")
    assert cells == {
        "Remind": "",
        "Name": "Bob",
        "E-mail": "bob@acme.example",
        "Run": _run(orgs.contract_a).title,
        "Enrolled on": (timezone.now() - timedelta(days=1)).strftime("%b %-d, %Y"),
        "Grade": "95% (A)",
        "Passed on": day,
        "Certificate": "downloadable · Download the certificate of Bob",
        "Last change seen": timezone.now().strftime("%b %-d, %Y"),
        "Needs attention": "—",
        "Last nudged": day,
    }
    link = _cell(soup, bob, "Certificate").find("a")
    assert link["href"] == "https://courses.example/certificates/abc"
    assert _cell(soup, learners["eve"], "Grade").get_text() == "Not started yet"
    assert _cell(soup, learners["cat"], "Needs attention").get_text() == "Needs attention"
    assert soup.select_one('[data-testid="as-of"]').get_text(" ", strip=True).startswith("As of ")


def test_only_web_addresses_become_links_and_everything_is_escaped(manager_client, orgs):
    run = _run(orgs.contract_a)
    evil = progress_row(
        orgs.contract_a,
        run,
        edx_username="<script>alert(1)</script>",
        edx_email="x@example.com",
        cert_status="downloadable",
        cert_url="javascript:alert(1)",
    )
    data = progress_row(
        orgs.contract_a, run, cert_status="downloadable", cert_url="data:text/html,<b>x</b>"
    )
    html = manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/progress/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert "data:text/html" not in html
    soup = BeautifulSoup(html, "html.parser")
    assert _cell(soup, evil, "Certificate").find("a") is None
    assert _cell(soup, data, "Certificate").find("a") is None


def test_an_unmapped_open_edx_learner_shows_their_open_edx_username_and_email(manager_client, orgs):
    row = progress_row(
        orgs.contract_a, _run(orgs.contract_a), edx_username="stranger", edx_email="s@edx.example"
    )
    soup = _page(manager_client, orgs.contract_a)
    name = _cell(soup, row, "Name").get_text(" ", strip=True)
    assert name == "stranger Open edX user, not matched to an account here"
    assert _cell(soup, row, "E-mail").get_text() == "s@edx.example"


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("", ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay"]),
        ("not-started", ["Dan", "Eve"]),
        ("needs-attention", ["Cat", "Dan"]),
        ("passed", ["Ann", "Bob"]),
        ("certified", ["Bob"]),
        ("forged", ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay"]),
    ],
)
def test_each_filter_and_its_count(manager_client, orgs, learners, show, expected):
    soup = _page(manager_client, orgs.contract_a, f"?show={show}")
    assert _names(soup) == expected
    counts = {
        a["data-filter"]: a.get_text(strip=True) for a in soup.select(".filters a[data-filter]")
    }
    assert counts == {
        "all": "Everyone (6)",
        "not-started": "Not started (2)",
        "needs-attention": "Needs attention (2)",
        "passed": "Passed (2)",
        "certified": "Certified (1)",
    }


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay"]),
        ("-name", ["Fay", "Eve", "Dan", "Cat", "Bob", "Ann"]),
        ("grade", ["Dan", "Eve", "Fay", "Cat", "Ann", "Bob"]),
        ("-grade", ["Bob", "Ann", "Cat", "Fay", "Dan", "Eve"]),  # equal grades: by id
        ("enrolled", ["Dan", "Ann", "Bob", "Cat", "Eve", "Fay"]),
        ("changed", ["Cat", "Ann", "Bob", "Dan", "Eve", "Fay"]),
        ("'; drop table x", ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay"]),
    ],
)
def test_sorting(manager_client, orgs, learners, sort, expected):
    if sort == "enrolled":
        # Equal times order by id: make the later ones distinct but after Dan's
        for i, name in enumerate(["ann", "bob", "cat", "eve", "fay"]):
            row = learners[name]
            row.enrolled_on = timezone.now() - timedelta(days=10 - i)
            row.save()
    if sort == "changed":
        for i, name in enumerate(["ann", "bob", "dan", "eve", "fay"]):
            row = learners[name]
            row.changed_on = timezone.now() - timedelta(days=10 - i)
            row.save()
    assert _names(_page(manager_client, orgs.contract_a, f"?sort={sort}")) == expected


def test_the_column_headers_link_each_sort_and_turn_it_around(manager_client, orgs, learners):
    soup = _page(manager_client, orgs.contract_a, "?show=passed&q=a")
    links = {a.get_text(" ", strip=True): a["href"] for a in soup.select("#progress-table th a")}
    assert links["Name ▲"] == "?q=a&show=passed&sort=-name"
    assert links["Grade"] == "?q=a&show=passed&sort=grade"
    soup = _page(manager_client, orgs.contract_a, "?sort=grade")
    th = soup.find("th", attrs={"aria-sort": "ascending"})
    assert th.a["href"] == "?sort=-grade"
    soup = _page(manager_client, orgs.contract_a, "?sort=-grade")
    assert soup.find("th", attrs={"aria-sort": "descending"}).a["href"] == "?sort=grade"


def test_search_by_name_email_or_open_edx_username(manager_client, orgs, learners):
    progress_row(orgs.contract_a, _run(orgs.contract_a), edx_username="zed_edx", edx_email="z@x.io")
    assert _names(_page(manager_client, orgs.contract_a, "?q=CAT")) == ["Cat"]
    assert _names(_page(manager_client, orgs.contract_a, "?q=dan@acme")) == ["Dan"]
    assert _names(_page(manager_client, orgs.contract_a, "?q=zed_")) == ["zed_edx"]
    soup = _page(manager_client, orgs.contract_a, "?q=nobody-at-all")
    assert _names(soup) == []
    assert "No learner matches." in soup.get_text()


def test_pages_of_the_table(manager_client, orgs, learners, settings):
    settings.B2B_MANAGE_PAGE_SIZE = 4
    first = _page(manager_client, orgs.contract_a, "?show=&sort=name")
    assert _names(first) == ["Ann", "Bob", "Cat", "Dan"]
    pager = first.select_one('nav[aria-label="Progress pages"]')
    assert pager.get_text(" ", strip=True) == "Page 1 of 2 Next"
    next_url = pager.find("a", string="Next")["href"]
    assert next_url == "?sort=name&page=2"
    second = _page(manager_client, orgs.contract_a, next_url)
    assert _names(second) == ["Eve", "Fay"]
    assert second.select_one('nav[aria-label="Progress pages"] a')["href"] == "?sort=name"
    assert _names(_page(manager_client, orgs.contract_a, "?page=99")) == ["Eve", "Fay"]
    assert _names(_page(manager_client, orgs.contract_a, "?page=x")) == ["Ann", "Bob", "Cat", "Dan"]


def test_the_filter_the_count_and_the_flags_use_one_cut_off(manager_client, orgs, learners):
    """A row right at the edge of "not started for 14 days": the cut-off is taken once per
    request, so the count, the filter and the row's flag cannot disagree."""
    now = timezone.now()
    edge = learners["eve"]
    edge.enrolled_on = now - timedelta(days=14)
    edge.save()
    taken = []
    real = AttentionCutoffs.at

    def once(at):
        taken.append(at)
        return real(now)

    with mock.patch.object(AttentionCutoffs, "at", side_effect=once):
        soup = _page(manager_client, orgs.contract_a, "?show=needs-attention")
    assert len(taken) == 1
    flagged = _names(soup)
    count = soup.select_one('.filters a[data-filter="needs-attention"]').get_text(strip=True)
    summary = soup.select_one('[data-testid="needs-attention"]').get_text()
    assert count == f"Needs attention ({len(flagged)})"
    assert summary == str(len(flagged))
    boxes = soup.select('input[type=checkbox][name="progress"]')
    assert len(boxes) == len(flagged)


def test_only_flagged_rows_have_a_nudge_checkbox(manager_client, orgs, learners):
    html = manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/progress/").content.decode()
    form = BrowserForm(html, form_id="nudge-form")
    assert form.checkboxes == {"progress"}
    soup = BeautifulSoup(html, "html.parser")
    values = sorted(int(i["value"]) for i in soup.select('input[name="progress"]'))
    assert values == sorted([learners["cat"].pk, learners["dan"].pk])
    buttons = [(b["name"], b["value"]) for b in soup.select("#nudge-form button")]
    assert buttons == [("scope", "selected"), ("scope", "all")]


# Queries


@pytest.mark.parametrize("size", [1, 30])
def test_the_progress_page_costs_the_same_queries_whatever_the_rows(
    manager_client, orgs, size, django_assert_num_queries, settings
):
    settings.B2B_MANAGE_PAGE_SIZE = 50
    run = _run(orgs.contract_a)
    for i in range(size):
        user = f.UserFactory(email=f"m{i}@acme.example") if i % 2 else None
        progress_row(orgs.contract_a, run, user=user, enrolled_on=OLD if i % 3 else None)
    # the session and its user, the contract, the manager rule, the summary (3), the
    # contract's organization, the page's count and rows, the filter counts, the header's
    # "Manage" link
    with django_assert_num_queries(PROGRESS_QUERIES):
        response = manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/progress/")
    assert len(_names(_soup(response))) == size


PROGRESS_QUERIES = 12


# The aggregates-only contract


@pytest.fixture
def aggregates(orgs, learners):
    contract = orgs.contract_a
    contract.progress_visibility = ProgressVisibility.AGGREGATES
    contract.save()
    return contract


def test_an_aggregates_contract_has_no_table_and_hides_small_counts(
    manager_client, aggregates, learners
):
    soup = _page(manager_client, aggregates)
    assert soup.select_one("#progress-table") is None
    assert soup.select_one("#nudge-form") is None
    assert soup.find("a", href=f"/manage/contracts/{aggregates.pk}/progress.csv") is None
    assert "totals only" in soup.select_one('[data-testid="no-table"]').get_text()
    values = {
        row["data-stage"]: row.select_one(".funnel-value").get_text(strip=True)
        for row in soup.select(".funnel-row")
    }
    assert values == {
        "invited": "6 (60%)",
        "joined": "6 (60%)",
        "enrolled": "6 (60%)",
        "started": "fewer than 5",
        "passed": "fewer than 5",
        "certified": "fewer than 5",
    }
    text = soup.find(id=soup.select_one('[role="img"]')["aria-labelledby"]).get_text()
    assert "Started: fewer than 5; Passed: fewer than 5; Certified: fewer than 5." in text
    assert soup.select_one('[data-testid="needs-attention"]').get_text() == "fewer than 5"
    for a in ("Bob", "bob@acme.example"):
        assert a not in soup.get_text()


def test_an_aggregates_contract_ignores_the_table_query(manager_client, aggregates):
    soup = _page(manager_client, aggregates, "?q=bob&show=passed&sort=-grade&page=2")
    assert soup.select_one("#progress-table") is None
    assert "bob" not in soup.get_text().lower()


def test_the_overview_shows_completion_and_attention_and_hidden_values(
    manager_client, orgs, learners
):
    hidden = f.ContractPageFactory(
        parent=orgs.a, title="Acme Hidden", progress_visibility=ProgressVisibility.AGGREGATES
    )
    run = f.CourseRunFactory(b2b_contract=hidden)
    progress_row(hidden, run, enrolled_on=OLD)
    soup = _soup(manager_client.get(f"/manage/organizations/{orgs.a.pk}/"))
    lines = {
        card.h3.get_text(strip=True): " ".join(
            card.select_one('[data-testid="contract-progress"]').get_text(" ").split()
        ).split(" · Progress")[0]
        for card in soup.select(".card")
    }
    assert lines == {
        "Acme Leadership": "Completion: 33% · Needs attention: 2",
        "Acme Hidden": (
            "Completion: hidden (groups under 5 learners are not shown) · "
            "Needs attention: fewer than 5"
        ),
    }
