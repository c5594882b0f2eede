"""ecommerce's part of the health report (``config.health_registry``): one-time codes redeemed
more than once, and orders paid for but neither fulfilled nor refunded.

Registered by ``ecommerce.apps.EcommerceConfig.ready``. Each check is one query (the selectors
it calls). Neither has a repair: a person decides whether to refund or to enroll.
"""

from config.health_registry import Check, Finding, HealthScope, HealthSeverity
from config.money import format_money
from ecommerce import selectors

ERROR = HealthSeverity.ERROR


def codes_redeemed_twice(scope: HealthScope) -> list[Finding]:
    by_contract: dict[int, list[selectors.OverRedeemedCode]] = {}
    for code in selectors.one_time_codes_redeemed_twice(scope.contract_ids):
        by_contract.setdefault(code.contract_id, []).append(code)
    findings = []
    for contract_id, codes in by_contract.items():
        first = codes[0]
        findings.append(
            Finding(
                "code-redeemed-twice",
                ERROR,
                contract_id,
                "codes",
                f"{len(codes)} one-time code(s) redeemed more than once "
                f"(e.g. {first.code}: {first.times} times)",
                "look at the code's redemptions and orders in the Django admin; refund or "
                "detach the extra learners",
            )
        )
    return findings


def paid_orders(scope: HealthScope) -> list[Finding]:
    return [
        Finding(
            "paid-not-fulfilled",
            ERROR,
            order.contract_id,
            f"order {order.order_id}",
            f"order {order.order_id} was paid {format_money(order.paid)} but is {order.state}"
            + (f": {order.reason}" if order.reason else ""),
            "enroll the learner by hand, or refund the payment and mark the order refunded "
            "in the Django admin",
        )
        for order in selectors.paid_orders_not_fulfilled(scope.contract_ids)
    ]


CHECKS: dict[str, Check] = {
    "code-redeemed-twice": codes_redeemed_twice,
    "paid-not-fulfilled": paid_orders,
}
