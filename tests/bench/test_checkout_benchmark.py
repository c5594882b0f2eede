"""The pieces of `make bench-checkout` against a live server: a contract and signed-in learners
made as the benchmark makes them, two learners holding one code walking the real pages, and
the checks the benchmark runs on the database afterwards."""

import pytest

from bench import checkout_benchmark as bench

# Like every transactional test of the suite, it restores the database as it found it
# (serialized_rollback): a flush without it recreates content types that the next such test
# then restores a second time.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_learners_sharing_a_code_one_gets_in(live_server, site_tree, openedx_server):
    contract, product, codes = bench._contract(7, 1, openedx_server)
    first, contender = bench._learners(7, codes, 1, openedx_server)
    assert (first.code, contender.code, first.shared, contender.shared) == (
        codes[0],
        codes[0],
        True,
        True,
    )

    won = bench._walk(live_server.url, product.pk, first)
    lost = bench._walk(live_server.url, product.pk, contender)

    assert (won.checked_out, won.refused, won.error) == (True, False, None)
    assert list(won.latencies) == list(bench.STEPS)
    assert (lost.checked_out, lost.refused, lost.error) == (False, True, None)
    assert list(lost.latencies) == ["add", "cart", "apply"]  # the code was already used
    assert bench._verify(contract, [first, contender], [won, lost]) == []


def test_a_learner_refused_without_a_shared_code_is_an_error(
    live_server, site_tree, openedx_server
):
    _contract, product, codes = bench._contract(8, 1, openedx_server)
    (learner,) = bench._learners(8, codes, 0, openedx_server)
    learner.code = "NOT-A-CODE"
    outcome = bench._walk(live_server.url, product.pk, learner)
    assert outcome.error == f"POST {live_server.url}/cart/code/: 200"
    assert not outcome.checked_out
