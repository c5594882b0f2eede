"""Catalog: courses, their runs, programs with their requirement trees, and enrollments."""

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from treebeard.mp_tree import MP_Node

from config.models import TimestampedModel
from courses.enums import (
    EdxCopyState,
    EdxSyncState,
    EnrollmentMode,
    RequirementNodeType,
    RequirementOperator,
)

COURSE_ID_REGEX = r"^course-v1:[A-Za-z0-9_.~-]+\+[A-Za-z0-9_.~-]+$"
COURSE_RUN_ID_REGEX = r"^course-v1:[A-Za-z0-9_.~-]+\+[A-Za-z0-9_.~-]+\+[A-Za-z0-9_.~-]+$"
PROGRAM_ID_REGEX = r"^program-v1:[A-Za-z0-9_.~-]+\+[A-Za-z0-9_.~-]+$"


class Course(TimestampedModel):
    title = models.CharField(max_length=255)
    readable_id = models.CharField(max_length=255, unique=True)
    live = models.BooleanField(default=False)

    class Meta:
        ordering = ["readable_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(readable_id__regex=COURSE_ID_REGEX),
                name="courses_course_readable_id_format",
            )
        ]

    def __str__(self) -> str:
        return f"{self.readable_id} {self.title}"

    @property
    def org(self) -> str:
        return self.readable_id.removeprefix("course-v1:").split("+")[0]

    @property
    def number(self) -> str:
        """The course number: the part of the readable id after the organization."""
        return self.readable_id.split("+", 1)[1]


class CourseRun(TimestampedModel):
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="runs")
    title = models.CharField(max_length=255)
    courseware_id = models.CharField(max_length=255, unique=True)
    run_tag = models.CharField(max_length=100)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    enrollment_start = models.DateTimeField(null=True, blank=True)
    enrollment_end = models.DateTimeField(null=True, blank=True)
    live = models.BooleanField(default=False)
    is_self_paced = models.BooleanField(default=False)
    b2b_contract = models.ForeignKey(
        "b2b.ContractPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="course_runs",
    )
    # The copy of this run in Open edX Studio (contract runs are cloned from their source run).
    edx_copy_state = models.CharField(
        max_length=20, choices=EdxCopyState.choices, default=EdxCopyState.NOT_REQUIRED
    )
    edx_copy_error = models.TextField(blank=True)
    edx_copy_source = models.CharField(max_length=255, blank=True)
    edx_copy_attempts = models.PositiveIntegerField(default=0)
    edx_copy_updated_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(courseware_id__regex=COURSE_RUN_ID_REGEX),
                name="courses_courserun_courseware_id_format",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(start_date__lte=models.F("end_date")),
                name="courses_courserun_start_before_end",
            ),
        ]
        indexes = [models.Index(fields=["course", "run_tag"])]

    def __str__(self) -> str:
        return self.courseware_id


class Program(TimestampedModel):
    title = models.CharField(max_length=255)
    readable_id = models.CharField(max_length=255, unique=True)
    live = models.BooleanField(default=False)

    class Meta:
        ordering = ["readable_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(readable_id__regex=PROGRAM_ID_REGEX),
                name="courses_program_readable_id_format",
            )
        ]

    def __str__(self) -> str:
        return f"{self.readable_id} {self.title}"


class ProgramRequirement(MP_Node):
    """A node of a program's requirements tree.

    The root of each program's tree is an operator node; operators (all of / at least N of) hold
    courses, nested programs, or further operators.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="requirements")
    node_type = models.CharField(max_length=20, choices=RequirementNodeType.choices)
    operator = models.CharField(
        max_length=20, choices=RequirementOperator.choices, blank=True, default=""
    )
    operator_value = models.PositiveIntegerField(null=True, blank=True)
    title = models.CharField(max_length=255, blank=True)
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.CASCADE, related_name="in_programs"
    )
    required_program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.CASCADE, related_name="in_programs"
    )

    node_order_by: list[str] = []

    if TYPE_CHECKING:
        # treebeard has no type information, so the Django plugin cannot see its manager
        # (MP_NodeManager, a Manager) nor type the reverse relations (requirements, in_programs).
        _default_manager: ClassVar[models.Manager["ProgramRequirement"]]

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="courses_programrequirement_node_shape",
                condition=(
                    Q(
                        node_type=RequirementNodeType.OPERATOR,
                        course__isnull=True,
                        required_program__isnull=True,
                    )
                    & ~Q(operator="")
                    | Q(
                        node_type=RequirementNodeType.COURSE,
                        course__isnull=False,
                        required_program__isnull=True,
                        operator="",
                    )
                    | Q(
                        node_type=RequirementNodeType.PROGRAM,
                        course__isnull=True,
                        required_program__isnull=False,
                        operator="",
                    )
                ),
            ),
            models.CheckConstraint(
                name="courses_programrequirement_min_number_has_value",
                condition=~Q(operator=RequirementOperator.MIN_NUMBER_OF)
                | Q(operator_value__isnull=False, operator_value__gte=1),
            ),
        ]

    def __str__(self) -> str:
        if self.node_type == RequirementNodeType.COURSE:
            return f"course {self.course_id}"
        if self.node_type == RequirementNodeType.PROGRAM:
            return f"program {self.required_program_id}"
        return f"{self.get_operator_display()} {self.operator_value or ''}".strip()


class CourseRunEnrollment(TimestampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    run = models.ForeignKey(CourseRun, on_delete=models.PROTECT, related_name="enrollments")
    mode = models.CharField(
        max_length=20, choices=EnrollmentMode.choices, default=EnrollmentMode.AUDIT
    )
    active = models.BooleanField(default=True)
    edx_sync_state = models.CharField(
        max_length=20, choices=EdxSyncState.choices, default=EdxSyncState.PENDING
    )
    edx_sync_error = models.TextField(blank=True)
    # The learner's Open edX username, as Open edX answered the enrollment push: how the progress
    # sync maps Open edX's learners back to ours (b2b.services.progress).
    edx_username = models.CharField(max_length=150, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_on"]
        constraints = [
            models.UniqueConstraint(fields=["user", "run"], name="courses_enrollment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.run_id}"
