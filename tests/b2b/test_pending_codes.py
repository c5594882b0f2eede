"""Contracts left pending are found again: the periodic sweep, `sync-codes --all-pending`, and
what the codes CSV tells the operator meanwhile."""

import time

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from b2b.models import ContractCodeStatus
from b2b.tasks import requeue_pending_codes_task
from tests.b2b.helpers import contract_with_products, left_pending, reconcile, summary


def _pending(contract) -> bool:
    return ContractCodeStatus.objects.get(pk=contract.pk).is_pending


@pytest.mark.django_db
def test_the_sweep_queues_again_what_waited_too_long(
    site_tree, settings, django_capture_on_commit_callbacks
):
    settings.B2B_CODES_REQUEUE_AFTER_SECONDS = 600
    stuck, (stuck_product,) = contract_with_products(products=1, max_learners=3)
    left_pending(stuck, minutes_ago=11)
    recent, (recent_product,) = contract_with_products(products=1, max_learners=3)
    left_pending(recent, minutes_ago=2)  # probably still in the queue: left alone
    done, (done_product,) = contract_with_products(products=1, max_learners=2)
    reconcile(done)

    # No broker: the sweep's queued work runs in this process, once the sweep commits.
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_pending_codes_task.apply().get() == [stuck.pk]

    assert not _pending(stuck)
    assert summary(stuck_product) == (3, 0, 0, 0)
    assert _pending(recent)
    assert summary(recent_product) == (0, 0, 0, 0)
    assert summary(done_product) == (2, 0, 0, 0)
    assert requeue_pending_codes_task.apply().get() == []


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_sweeps_a_lost_reconciliation_and_runs_it(site_tree, celery_worker_process):
    contract, products = contract_with_products(products=2, max_learners=4)
    left_pending(contract, minutes_ago=30)

    swept = celery_worker_process.send_task("b2b.requeue_pending_codes")
    assert swept.get(timeout=60) == [contract.pk]

    deadline = time.monotonic() + 60
    while _pending(contract) and time.monotonic() < deadline:
        time.sleep(0.2)
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.is_pending, status.pending_since, status.last_error) == (False, None, "")
    for product in products:
        assert summary(product) == (4, 0, 0, 0)


@pytest.mark.django_db
def test_sync_codes_all_pending_reconciles_each_with_progress(run_command):
    first, (first_product,) = contract_with_products(products=1, max_learners=3)
    left_pending(first, minutes_ago=1, error="deadlock detected")
    second, (second_product,) = contract_with_products(products=1, max_learners=2)
    left_pending(second, minutes_ago=90)
    done, _ = contract_with_products(products=1, max_learners=2)
    reconcile(done)

    out, err = run_command("b2b_contract", "sync-codes", "--all-pending")

    assert err == ""
    assert out.splitlines() == [
        "2 contracts with pending codes.",
        f"[1/2] Contract {first.pk}: Codes (one-time codes up to the cap, 1 products, "
        "price $0.00):",
        "  create 3, reactivate 0, deactivate 0, delete 0",
        "  re-price 0 codes and 0 products, change redemption type of 0",
        f"[2/2] Contract {second.pk}: Codes (one-time codes up to the cap, 1 products, "
        "price $0.00):",
        "  create 2, reactivate 0, deactivate 0, delete 0",
        "  re-price 0 codes and 0 products, change redemption type of 0",
        "Done: the codes of 2 contracts are up to date.",
    ]
    assert (summary(first_product), summary(second_product)) == ((3, 0, 0, 0), (2, 0, 0, 0))
    status = ContractCodeStatus.objects.get(pk=first.pk)
    assert (status.is_pending, status.last_error) == (False, "")
    assert run_command("b2b_contract", "sync-codes", "--all-pending") == (
        "No contract has pending codes.\n",
        "",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "Error: one of the arguments contract_id --all-pending is required"),
        (
            ["7", "--all-pending"],
            "Error: argument --all-pending: not allowed with argument contract_id",
        ),
    ],
)
def test_sync_codes_wants_one_contract_or_all_pending(run_command, argv, message):
    with pytest.raises(CommandError) as refused:
        run_command("b2b_contract", "sync-codes", *argv)
    assert str(refused.value) == message


@pytest.mark.django_db
def test_the_csv_warning_says_what_the_operator_can_do(run_command, tmp_path):
    contract, _ = contract_with_products(products=1, max_learners=2)
    left_pending(contract, minutes_ago=5, error="deadlock detected")
    ContractCodeStatus.objects.filter(pk=contract.pk).update(
        pending_since=timezone.make_aware(timezone.datetime(2026, 1, 2, 3, 4))
    )

    _, err = run_command(
        "b2b_list", "contracts", "--codes", str(contract.pk), "--codes-out", str(tmp_path / "c.csv")
    )

    assert err.splitlines() == [
        f"Warning: codes of contract {contract.pk} are pending since 2026-01-02 03:04 "
        "(last attempt: deadlock detected); the file may be incomplete. Run "
        f"`b2b_contract sync-codes {contract.pk}` (or `sync-codes --all-pending`) to bring them "
        "up to date now, then export again."
    ]
