import pytest
from django.core.management import call_command

from courses.models import Course, CourseRun, Program, ProgramRequirement
from users.models import User

pytestmark = pytest.mark.django_db


def test_load_demo_catalog_is_idempotent(capsys):
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
