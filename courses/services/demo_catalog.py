"""Demo data for trying the product locally: a small catalog and a staff superuser."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from courses.enums import RequirementNodeType, RequirementOperator
from courses.models import Course, CourseRun, Program, ProgramRequirement

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "admin"

SOURCE_COURSES = [
    ("DEMO101", "Introduction to Data Science"),
    ("DEMO102", "Machine Learning Foundations"),
    ("DEMO103", "Deep Learning"),
    ("DEMO104", "Ethics of Artificial Intelligence"),
    ("DEMO105", "Programming in Python"),
]
# A course that has runs but no SOURCE run: contract runs for it are copied from its first run.
NO_SOURCE_COURSE = ("DEMO201", "Statistics Refresher", ["2026_T1", "2026_T2"])

AI_PROGRAM_ID = "program-v1:UAI_SOURCE+AI_FOUNDATIONS"
PYTHON_PROGRAM_ID = "program-v1:UAI_SOURCE+PYTHON_TRACK"


@dataclass
class DemoCatalogResult:
    created: list[str] = field(default_factory=list)
    admin_email: str = DEMO_ADMIN_EMAIL
    admin_password: str | None = None  # set only when the admin was created by this call
    admin_exists: bool = False  # the demo admin exists after this call
    admin_has_demo_password: bool = False  # ...and still signs in with DEMO_ADMIN_PASSWORD


def _course(number: str, title: str) -> tuple[Course, bool]:
    return Course.objects.get_or_create(
        readable_id=f"course-v1:UAI_SOURCE+{number}", defaults={"title": title, "live": True}
    )


def _run(course: Course, run_tag: str) -> tuple[CourseRun, bool]:
    return CourseRun.objects.get_or_create(
        courseware_id=f"{course.readable_id}+{run_tag}",
        defaults={
            "course": course,
            "title": course.title,
            "run_tag": run_tag,
            "live": True,
            "is_self_paced": True,
        },
    )


def _program(
    readable_id: str, title: str, build: Callable[[Program, ProgramRequirement], None]
) -> tuple[Program, bool]:
    """Create a program and its requirement tree (``build`` fills in the root operator)."""
    program, created = Program.objects.get_or_create(
        readable_id=readable_id, defaults={"title": title, "live": True}
    )
    if not program.requirements.exists():
        root = ProgramRequirement.add_root(
            program=program,
            node_type=RequirementNodeType.OPERATOR,
            operator=RequirementOperator.ALL_OF,
            title="Required courses",
        )
        build(program, root)
    return program, created


def _add_course(program: Program, parent: ProgramRequirement, course: Course) -> None:
    parent.add_child(program=program, node_type=RequirementNodeType.COURSE, course=course)


@transaction.atomic
def load_demo_catalog(*, create_admin: bool) -> DemoCatalogResult:
    """Create the demo catalog if it is missing; existing rows are left alone.

    The demo superuser (DEMO_ADMIN_EMAIL / DEMO_ADMIN_PASSWORD, a well-known password) is
    created only when ``create_admin`` is true: local development, never a real site.
    """
    result = DemoCatalogResult()
    courses = _load_courses(result)
    _load_programs(result, courses)
    _load_admin(result, create_admin=create_admin)
    return result


def _load_courses(result: DemoCatalogResult) -> dict[str, Course]:
    courses: dict[str, Course] = {}
    for number, title in SOURCE_COURSES:
        course, created = _course(number, title)
        courses[number] = course
        if created:
            result.created.append(course.readable_id)
        run, created = _run(course, "SOURCE")
        if created:
            result.created.append(run.courseware_id)

    number, title, run_tags = NO_SOURCE_COURSE
    course, created = _course(number, title)
    courses[number] = course
    if created:
        result.created.append(course.readable_id)
    for tag in run_tags:
        run, created = _run(course, tag)
        if created:
            result.created.append(run.courseware_id)
    return courses


def _load_programs(result: DemoCatalogResult, courses: dict[str, Course]) -> None:
    def build_python(program: Program, root: ProgramRequirement) -> None:
        _add_course(program, root, courses["DEMO105"])
        _add_course(program, root, courses["DEMO201"])

    python_program, created = _program(PYTHON_PROGRAM_ID, "Python Track", build_python)
    if created:
        result.created.append(python_program.readable_id)

    def build_ai(program: Program, root: ProgramRequirement) -> None:
        _add_course(program, root, courses["DEMO101"])
        _add_course(program, root, courses["DEMO102"])
        elective = root.add_child(
            program=program,
            node_type=RequirementNodeType.OPERATOR,
            operator=RequirementOperator.MIN_NUMBER_OF,
            operator_value=1,
            title="Electives",
        )
        _add_course(program, elective, courses["DEMO103"])
        _add_course(program, elective, courses["DEMO104"])
        root.add_child(
            program=program,
            node_type=RequirementNodeType.PROGRAM,
            required_program=python_program,
        )

    ai_program, created = _program(AI_PROGRAM_ID, "Foundations of AI", build_ai)
    if created:
        result.created.append(ai_program.readable_id)


def _load_admin(result: DemoCatalogResult, *, create_admin: bool) -> None:
    user_model = get_user_model()
    admin = user_model.objects.filter(email__iexact=DEMO_ADMIN_EMAIL).first()
    if admin is None and create_admin:
        admin = user_model.objects.create_superuser(
            email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD, name="Demo Admin"
        )
        result.admin_password = DEMO_ADMIN_PASSWORD
        result.created.append(DEMO_ADMIN_EMAIL)
    result.admin_exists = admin is not None
    result.admin_has_demo_password = admin is not None and admin.check_password(DEMO_ADMIN_PASSWORD)
