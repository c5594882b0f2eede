"""No change may give a contract more codes than B2B_MAX_CODES_PER_CONTRACT, nor a cap beyond the
column's range: the command line, courseware and Wagtail are refused alike, and nothing changes."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.urls import reverse
from wagtail.models import Revision

from b2b.models import ContractCodeStatus, ContractPage
from courses.models import CourseRun
from ecommerce.models import Discount, Product
from tests.b2b.helpers import contract_with_products, field_errors, publish_in_wagtail
from tests.support import factories as f
from tests.support.databases import database_url_for_subprocess
from tests.support.forms import page_errors

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HUGE = "2000000000"


def _state(contract):
    """What a refused change must leave as it was."""
    status = ContractCodeStatus.objects.filter(pk=contract.pk).first()
    return (
        ContractPage.objects.get(pk=contract.pk).max_learners,
        Revision.objects.filter(object_id=str(contract.pk)).count(),
        status.requested_version if status else None,
        Discount.objects.count(),
        CourseRun.objects.count(),
        Product.objects.count(),
    )


def test_modify_refuses_a_cap_that_would_make_too_many_codes(run_command):
    contract, _ = contract_with_products(products=2, max_learners=10)
    before = _state(contract)

    with pytest.raises(CommandError) as raised:
        run_command("b2b_contract", "modify", str(contract.pk), "--max-learners", HUGE)

    assert str(raised.value) == (
        "A cap of 2,000,000,000 learners on 2 products would create 4,000,000,000 enrollment "
        "codes; a contract may hold at most 1,000,000 (B2B_MAX_CODES_PER_CONTRACT)"
    )
    assert _state(contract) == before


def test_dry_run_is_refused_the_same_way(run_command):
    contract, _ = contract_with_products(products=2, max_learners=10)
    with pytest.raises(CommandError, match="would create 4,000,000,000 enrollment codes"):
        run_command("b2b_contract", "modify", str(contract.pk), "--max-learners", HUGE, "--dry-run")


def test_the_limit_is_a_setting_and_is_inclusive(run_command, settings):
    settings.B2B_MAX_CODES_PER_CONTRACT = 10
    contract, _ = contract_with_products(products=2, max_learners=2)

    run_command("b2b_contract", "modify", str(contract.pk), "--max-learners", "5")  # 5 x 2 = 10
    with pytest.raises(CommandError) as raised:
        run_command("b2b_contract", "modify", str(contract.pk), "--max-learners", "6")

    assert str(raised.value) == (
        "A cap of 6 learners on 2 products would create 12 enrollment codes; a contract may "
        "hold at most 10 (B2B_MAX_CODES_PER_CONTRACT)"
    )
    assert ContractPage.objects.get(pk=contract.pk).max_learners == 5


def test_making_a_capped_sso_contract_priced_counts_its_codes(run_command, settings):
    """A free SSO contract gets no codes whatever its cap; a price gives it one per seat."""
    settings.B2B_MAX_CODES_PER_CONTRACT = 10
    contract, _ = contract_with_products(products=1, integration_type="sso", max_learners=50)

    with pytest.raises(CommandError) as raised:
        run_command("b2b_contract", "modify", str(contract.pk), "--price", "20")

    assert str(raised.value) == (
        "A cap of 50 learners on 1 product would create 50 enrollment codes; a contract may "
        "hold at most 10 (B2B_MAX_CODES_PER_CONTRACT)"
    )
    assert ContractPage.objects.get(pk=contract.pk).enrollment_fixed_price is None


def test_adding_courseware_is_refused_when_it_would_make_too_many_codes(run_command, settings):
    settings.B2B_MAX_CODES_PER_CONTRACT = 10
    contract, _ = contract_with_products(products=1, max_learners=6)
    course = f.CourseFactory(readable_id="course-v1:UAI_SOURCE+BOUND1")
    f.CourseRunFactory(course=course, run_tag="SOURCE")
    before = _state(contract)

    with pytest.raises(CommandError) as raised:
        run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)

    assert str(raised.value) == (
        "A cap of 6 learners on 2 products would create 12 enrollment codes; a contract may "
        "hold at most 10 (B2B_MAX_CODES_PER_CONTRACT)"
    )
    assert _state(contract) == before
    assert not contract.courses.exists()


def test_a_cap_beyond_the_column_is_refused_on_one_line(run_command, site_tree):
    with pytest.raises(CommandError) as raised:
        run_command(
            "b2b_contract", "create", "Acme", "Big", "non-sso", "--create",
            "--max-learners", "3000000000",
        )  # fmt: skip
    # The argument type refuses it before any service runs (config.commands, one line).
    assert str(raised.value) == "Error: argument --max-learners: at most 2147483647: '3000000000'"
    assert not ContractPage.objects.exists()

    contract, _ = contract_with_products(products=1, max_learners=3)
    with pytest.raises(CommandError) as raised:
        run_command("b2b_contract", "modify", str(contract.pk), "--max-learners", "2147483648")
    assert str(raised.value) == "Error: argument --max-learners: at most 2147483647: '2147483648'"
    assert ContractPage.objects.get(pk=contract.pk).max_learners == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_operator_sees_one_line_and_exit_status_1(site_tree):
    """As the operator ran it: a real process, which used to fill the disk with codes."""
    contract, _ = contract_with_products(products=2, max_learners=10)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": "test-only-secret-key",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "b2b_contract", "modify", str(contract.pk),
         "--max-learners", HUGE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "CommandError: A cap of 2,000,000,000 learners on 2 products would create "
        "4,000,000,000 enrollment codes; a contract may hold at most 1,000,000 "
        "(B2B_MAX_CODES_PER_CONTRACT)"
    ]
    assert ContractPage.objects.get(pk=contract.pk).max_learners == 10
    assert not Discount.objects.exists()


@pytest.fixture
def staff_client(client, site_tree):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("cap", "error"),
    [
        (
            HUGE,
            "A cap of 2,000,000,000 learners on 2 products would create 4,000,000,000 "
            "enrollment codes; a contract may hold at most 1,000,000 "
            "(B2B_MAX_CODES_PER_CONTRACT)",
        ),
        ("3000000000", "The learner cap must be at most 2147483647."),
    ],
)
def test_wagtail_publish_is_refused_with_a_form_error(staff_client, cap, error):
    contract, _ = contract_with_products(products=2, max_learners=10)
    before = _state(contract)

    response = publish_in_wagtail(staff_client, contract, max_learners=cap)

    assert response.status_code == 200
    assert field_errors(response) == [error]
    assert _state(contract) == before


def test_wagtail_publish_within_the_limit_is_accepted(staff_client, settings):
    settings.B2B_MAX_CODES_PER_CONTRACT = 10
    contract, _ = contract_with_products(
        products=2, max_learners=2, enrollment_fixed_price=Decimal("5.00")
    )

    response = publish_in_wagtail(staff_client, contract, max_learners="5")

    assert response.status_code == 302, page_errors(response.content.decode())
    assert ContractPage.objects.get(pk=contract.pk).max_learners == 5


def _setting_in_fresh_process(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="true")
    if value is not None:
        env["B2B_MAX_CODES_PER_CONTRACT"] = value
    probe = "from django.conf import settings; print(settings.B2B_MAX_CODES_PER_CONTRACT)"
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(("value", "read"), [(None, "1000000"), ("25", "25")])
def test_the_limit_comes_from_the_environment(value, read):
    done = _setting_in_fresh_process(value)
    assert (done.returncode, done.stdout.strip()) == (0, read), done.stderr


def test_a_limit_below_one_is_refused_at_start_up():
    done = _setting_in_fresh_process("0")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: B2B_MAX_CODES_PER_CONTRACT must be at "
        "least 1, not 0"
    )


def test_the_django_admin_cannot_change_a_contract_s_cap(staff_client):
    """The Django admin shows contracts read-only: there is no cap to get past the bound there."""
    contract, _ = contract_with_products(products=2, max_learners=10)
    url = reverse("admin:b2b_contractpage_change", args=[contract.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert 'name="max_learners"' not in page.content.decode()

    refused = staff_client.post(url, {"max_learners": HUGE})

    assert refused.status_code == 403
    assert ContractPage.objects.get(pk=contract.pk).max_learners == 10
