import pytest
from django.core.management import call_command

from courses.models import Course, CourseRun, Program, ProgramRequirement
from users.models import User

pytestmark = pytest.mark.django_db


def test_load_demo_catalog_is_idempotent(settings, capsys):
    settings.DEBUG = True  # the demo staff login is only made for local development
    call_command("load_demo_catalog")
    first = capsys.readouterr().out
    counts = (
        Course.objects.count(),
        CourseRun.objects.count(),
        Program.objects.count(),
        ProgramRequirement.objects.count(),
    )
    call_command("load_demo_catalog")
    second = capsys.readouterr().out

    assert "Staff login: admin@example.com / admin" in first
    assert "already loaded; nothing changed" in second
    assert counts == (
        Course.objects.count(),
        CourseRun.objects.count(),
        Program.objects.count(),
        ProgramRequirement.objects.count(),
    )
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("admin")


def test_demo_catalog_shape():
    call_command("load_demo_catalog")
    sources = CourseRun.objects.filter(run_tag="SOURCE")
    assert sources.count() == 5
    for run in sources:
        assert run.courseware_id == f"{run.course.readable_id}+SOURCE"
        assert run.courseware_id.startswith("course-v1:UAI_SOURCE+")
    no_source = Course.objects.get(readable_id="course-v1:UAI_SOURCE+DEMO201")
    assert no_source.runs.count() == 2
    assert not no_source.runs.filter(run_tag="SOURCE").exists()

    program = Program.objects.get(readable_id="program-v1:UAI_SOURCE+AI_FOUNDATIONS")
    nested_operators = program.requirements.filter(node_type="operator", depth__gt=1)
    assert nested_operators.count() == 1
    assert program.requirements.filter(node_type="program").count() == 1


def test_no_staff_login_is_created_with_debug_off(settings, capsys):
    settings.DEBUG = False
    call_command("load_demo_catalog")
    out = capsys.readouterr().out

    assert not User.objects.exists()
    assert Course.objects.count() == 6
    assert "admin@example.com" not in out
    assert out.splitlines()[-1] == (
        "No staff login was created: DEBUG is off. Create your own staff account with "
        "`manage.py createsuperuser`."
    )


def test_an_existing_demo_login_with_the_demo_password_is_flagged_with_debug_off(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo_catalog")
    capsys.readouterr()
    settings.DEBUG = False

    call_command("load_demo_catalog")
    captured = capsys.readouterr()

    assert captured.err.splitlines() == [
        "Warning: admin@example.com still has the demo password; change it now with "
        "`manage.py changepassword admin@example.com`."
    ]
    admin = User.objects.get(email="admin@example.com")
    admin.set_password("a-real-password-for-production")
    admin.save()
    call_command("load_demo_catalog")
    assert capsys.readouterr().err == ""
