"""Open edX copies stuck pending are queued again by the periodic sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.enums import EdxCopyState
from courses.models import CourseRun
from courses.tasks import requeue_stuck_edx_copies_task
from tests.courses.helpers import copy_state, make_contract_run, scheduled

pytestmark = pytest.mark.django_db


def _last_news(run: CourseRun, *, minutes_ago: int, **fields) -> None:
    CourseRun.objects.filter(pk=run.pk).update(
        edx_copy_updated_on=timezone.now() - timedelta(minutes=minutes_ago), **fields
    )


def test_the_sweep_queues_again_copies_with_no_news(
    site_tree, studio, settings, django_capture_on_commit_callbacks
):
    settings.OPENEDX_COPY_REQUEUE_AFTER_SECONDS = 1800
    stuck = scheduled(make_contract_run(number="ML101"))  # its message was lost 2 hours ago
    _last_news(stuck, minutes_ago=120)
    waiting = scheduled(make_contract_run(number="DS200"))  # failed 5 minutes ago, will retry
    _last_news(waiting, minutes_ago=5, edx_copy_error="Studio answered 503", edx_copy_attempts=1)
    failed = scheduled(make_contract_run(number="ST300"))  # final: only an operator requeues it
    _last_news(failed, minutes_ago=300, edx_copy_state=EdxCopyState.FAILED, edx_copy_error="x")

    # No broker: the queued copy runs in this process once the sweep commits.
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stuck_edx_copies_task.apply().get() == [stuck.courseware_id]

    assert copy_state(stuck) == (EdxCopyState.CREATED, "", 1)
    assert studio.studio_runs[stuck.courseware_id]["title"] == "Machine learning"
    assert copy_state(waiting) == (EdxCopyState.PENDING, "Studio answered 503", 1)
    assert copy_state(failed) == (EdxCopyState.FAILED, "x", 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stuck_edx_copies_task.apply().get() == []
