"""b2b_contract export and import: a versioned JSON description, recreated on another
installation (here: the same database after `manage.py flush`), all or nothing."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from wagtail.models import Page

from b2b.models import ContractMembership, ContractPage, OrganizationPage
from courses.enums import RequirementNodeType
from courses.models import Course, CourseRun, Program, ProgramRequirement
from ecommerce.models import Discount, Product
from tests.support import factories as f

pytestmark = pytest.mark.django_db

COURSES = ("ONE", "TWO", "THREE")


def catalog():
    """The courses and the program both installations have: source runs, and a shell course
    without runs."""
    made = {}
    for number in (*COURSES, "SHELL"):
        course = f.CourseFactory(
            readable_id=f"course-v1:UAI_SOURCE+{number}", title=f"Course {number}"
        )
        if number != "SHELL":
            f.CourseRunFactory(course=course, run_tag="SOURCE")
        made[number] = course
    program = f.ProgramFactory(readable_id="program-v1:UAI_SOURCE+TRACK", title="Track")
    root = f.ProgramRequirementFactory(program=program)
    for number in ("TWO", "THREE"):
        root.add_child(program=program, node_type=RequirementNodeType.COURSE, course=made[number])
    return made, program


@pytest.fixture
def source(site_tree, run_command, django_capture_on_commit_callbacks):
    """UniversityX 2026 and its renewal UniversityX 2027 (SSO organization, priced, capped)."""
    org = f.OrganizationPageFactory(
        title="UniversityX", org_key="UNIX", sso_organization_id="kc-unix", description="Uni"
    )
    first = f.ContractPageFactory(
        parent=org,
        title="UniversityX 2026",
        integration_type="sso",
        contract_start=date(2026, 1, 1),
        contract_end=date(2026, 12, 31),
        max_learners=3,
        enrollment_fixed_price=Decimal("75.00"),
        description="Cohort",
    )
    courses, program = catalog()
    with django_capture_on_commit_callbacks(execute=True):
        for readable_id in (courses["ONE"].readable_id, program.readable_id):
            run_command("b2b_contract", "courseware", str(first.pk), readable_id)
        run_command(
            "b2b_contract",
            "courseware",
            str(first.pk),
            courses["SHELL"].readable_id,
            "--no-create-runs",
        )
        run_command(
            "b2b_contract",
            "renew",
            str(first.pk),
            "--start",
            "2027-01-01",
            "--end",
            "2027-12-31",
            "--price",
            "80",
        )
        run_command("b2b_contract", "modify", str(first.pk), "--inactive")
    return first, ContractPage.objects.get(renews=first)


EXPECTED_2027 = {
    "format": "b2b-contract",
    "version": 1,
    "organization": {
        "name": "UniversityX",
        "org_key": "UNIX",
        "sso_organization_id": "kc-unix",
        "description": "Uni",
    },
    "contract": {
        "name": "UniversityX 2027",
        "description": "Cohort",
        "integration_type": "sso",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "active": True,
        "max_learners": 3,
        "price": "80.00",
        "renews": "UniversityX 2026",
    },
    "courseware": {
        "programs": ["program-v1:UAI_SOURCE+TRACK"],
        "courses": ["course-v1:UAI_SOURCE+ONE", "course-v1:UAI_SOURCE+SHELL"],
        "courses_with_runs": [f"course-v1:UAI_SOURCE+{n}" for n in COURSES],
    },
}


def _export(run_command, contract, tmp_path):
    path = tmp_path / f"contract-{contract.pk}.json"
    out, _ = run_command("b2b_contract", "export", str(contract.pk), "--output", str(path))
    assert out == f"Wrote contract {contract.pk} to {path}\n"
    return path


def _flush_to_a_fresh_installation():
    """Empty every table, as a new installation starts, then set Wagtail's tree up again and
    give it the same catalog of courses."""
    # PostgreSQL truncates no table with foreign key checks pending on it: check the test's
    # pending ones first (SQLite deletes the rows, and checks at the test's end).
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    ContentType.objects.clear_cache()
    call_command("configure_wagtail", stdout=io.StringIO())
    assert not ContractPage.objects.exists() and not CourseRun.objects.exists()
    catalog()


def _equivalent(contract):
    """What makes two contracts the same on two installations."""
    runs = CourseRun.objects.filter(b2b_contract=contract).select_related("course")
    products = Product.objects.filter(object_id__in=runs.values("pk"), is_active=True)
    return {
        "runs": sorted(
            (r.course.readable_id, r.start_date, r.end_date, r.edx_copy_source) for r in runs
        ),
        "prices": sorted(p.price for p in products),
        "codes": Discount.objects.filter(b2b_contract=contract, is_active=True).count(),
    }


def test_export_then_import_on_a_fresh_database(
    run_command, source, tmp_path, django_capture_on_commit_callbacks
):
    first, renewal = source
    first_path = _export(run_command, first, tmp_path)
    renewal_path = _export(run_command, renewal, tmp_path)
    assert json.loads(renewal_path.read_text()) == EXPECTED_2027
    exported = {
        name: json.loads(p.read_text())
        for name, p in (("2026", first_path), ("2027", renewal_path))
    }
    before = {"2026": _equivalent(first), "2027": _equivalent(renewal)}
    assert before["2027"]["codes"] == 9

    _flush_to_a_fresh_installation()
    with django_capture_on_commit_callbacks(execute=True):
        out_first, err = run_command("b2b_contract", "import", str(first_path))
    with django_capture_on_commit_callbacks(execute=True):
        out_renewal, _ = run_command("b2b_contract", "import", str(renewal_path))

    org = OrganizationPage.objects.get()
    assert (org.title, org.org_key, org.sso_organization_id, org.description) == (
        "UniversityX",
        "UNIX",
        "kc-unix",
        "Uni",
    )
    imported_first = ContractPage.objects.get(title="UniversityX 2026")
    imported_renewal = ContractPage.objects.get(title="UniversityX 2027")
    assert imported_renewal.renews == imported_first
    assert not imported_first.active
    # Exported again here, each describes exactly what was exported there.
    for name, contract in (("2026", imported_first), ("2027", imported_renewal)):
        again = tmp_path / f"again-{name}.json"
        run_command("b2b_contract", "export", str(contract.pk), "--output", str(again))
        assert json.loads(again.read_text()) == exported[name]
    assert {"2026": _equivalent(imported_first), "2027": _equivalent(imported_renewal)} == before
    assert err == ""
    assert out_first.splitlines()[:2] == [
        "Created organization UniversityX (key UNIX)",
        f"Created contract UniversityX 2026 (id {imported_first.pk}, slug universityx-2026) "
        "for organization UniversityX (inactive)",
    ]
    assert out_renewal.splitlines()[:3] == [
        f"Using organization UniversityX (id {org.pk}, key UNIX)",
        f"Created contract UniversityX 2027 (id {imported_renewal.pk}, slug universityx-2027) "
        "for organization UniversityX",
        f"Renews contract UniversityX 2026 (id {imported_first.pk})",
    ]
    assert out_renewal.splitlines()[-2:] == [
        "Created 3 products",
        "Enrollment codes were brought up to date.",
    ]


def _fingerprint():
    return (
        Page.objects.count(),
        CourseRun.objects.count(),
        Product.objects.count(),
        Discount.objects.count(),
        ContractMembership.objects.count(),
        sorted(OrganizationPage.objects.values_list("title", "sso_organization_id")),
    )


@pytest.fixture
def exported(run_command, source, tmp_path):
    """The renewal's file, on an installation that has only the catalog."""
    path = _export(run_command, source[1], tmp_path)
    _flush_to_a_fresh_installation()
    return path


def test_dry_run_writes_nothing(run_command, exported):
    before = _fingerprint()
    out, _ = run_command("b2b_contract", "import", str(exported), "--dry-run")
    assert _fingerprint() == before
    lines = out.splitlines()
    assert lines[:3] == [
        "Would create organization UniversityX (key UNIX)",
        "Would create contract UniversityX 2027 for organization UniversityX",
        "It renews contract 'UniversityX 2026', which is not here: the link is left empty",
    ]
    assert "Would create 3 products" in lines
    assert lines[-4:] == [
        "Codes (one-time codes up to the cap, 3 products, price $80.00):",
        "  create 9, reactivate 0, deactivate 0, delete 0",
        "  re-price 0 codes and 0 products, change redemption type of 0",
        "Dry run: nothing was written.",
    ]


def _edited(path, tmp_path, edit):
    data = json.loads(path.read_text())
    edit(data)
    target = tmp_path / "edited.json"
    target.write_text(json.dumps(data))
    return target


def _refused(run_command, path, message):
    before = _fingerprint()
    with pytest.raises(CommandError) as error:
        run_command("b2b_contract", "import", str(path))
    assert str(error.value) == message
    assert _fingerprint() == before


def test_unknown_courseware_names_each_missing_id(run_command, exported, tmp_path):
    ProgramRequirement.objects.all().delete()
    Program.objects.all().delete()
    CourseRun.objects.filter(course__readable_id="course-v1:UAI_SOURCE+ONE").delete()
    Course.objects.filter(readable_id="course-v1:UAI_SOURCE+ONE").delete()
    _refused(
        run_command,
        exported,
        "2 courseware ids are not on this installation: program-v1:UAI_SOURCE+TRACK, "
        "course-v1:UAI_SOURCE+ONE",
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(version=2), "unsupported version 2: this installation reads version 1"),
        (lambda d: d.pop("format"), 'not a contract description (no "format": "b2b-contract")'),
        (
            lambda d: d["contract"].update(max_learners=0),
            "contract.max_learners must be a whole number of at least 1, or null, not 0",
        ),
        (
            lambda d: d["contract"].update(price="1.005"),
            'contract.price must be an amount in cents (at most two decimal places), not "1.005"',
        ),
        (
            lambda d: d["contract"].update(start="2027-13-01"),
            'contract.start must be a date (YYYY-MM-DD) or null, not "2027-13-01"',
        ),
        (lambda d: d["courseware"].pop("courses"), "the file has no courseware.courses"),
        (
            lambda d: d["contract"].update(integration_type="saml"),
            "contract.integration_type must be one of sso, non-sso",
        ),
    ],
)
def test_malformed_files_are_one_line(run_command, exported, tmp_path, edit, message):
    path = _edited(exported, tmp_path, edit)
    _refused(run_command, path, f"{path}: {message}")


def test_not_json_and_no_file(run_command, exported, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ')
    _refused(run_command, broken, f"{broken}: not JSON: Expecting value (line 1, column 12)")
    _refused(
        run_command,
        tmp_path / "nope.json",
        f"Cannot read {tmp_path / 'nope.json'}: No such file or directory",
    )


def test_name_clash_refuses_the_second_import(
    run_command, exported, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_command("b2b_contract", "import", str(exported))
    existing = ContractPage.objects.get()
    _refused(
        run_command,
        exported,
        f"Organization 'UniversityX' already has a contract named 'UniversityX 2027' "
        f"(id {existing.pk})",
    )


def test_an_organization_with_another_sso_id_refuses(run_command, exported):
    f.OrganizationPageFactory(title="universityx", org_key="OTHER", sso_organization_id="kc-x")
    _refused(
        run_command,
        exported,
        "Organization 'universityx' has SSO organization id 'kc-x' here, not 'kc-unix'",
    )


def test_export_to_stdout_and_never_over_a_file(run_command, source, tmp_path):
    renewal = source[1]
    out, _ = run_command("b2b_contract", "export", str(renewal.pk))
    assert json.loads(out) == EXPECTED_2027
    path = tmp_path / "taken.json"
    path.write_text("mine")
    with pytest.raises(CommandError, match=r"already exists; add --force to replace it$"):
        run_command("b2b_contract", "export", str(renewal.pk), "--output", str(path))
    assert path.read_text() == "mine"
    run_command("b2b_contract", "export", str(renewal.pk), "--output", str(path), "--force")
    assert json.loads(path.read_text()) == EXPECTED_2027
