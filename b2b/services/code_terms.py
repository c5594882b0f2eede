"""What every code of a contract carries, and which products a contract's codes are for: the
two facts both sub-domains of codes need, the reconciliation (``b2b.services.codes``) and the
invitations (``b2b.services.invitations``), which may not import each other."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings

from b2b.models import ContractPage
from courses.models import CourseRun
from ecommerce.services.contract_codes import reads as ecommerce_codes
from ecommerce.services.contract_codes.bulk import CodeStamp


def contract_product_ids(contract_id: int) -> list[int]:
    """The active products of the contract's runs, in id order (one query)."""
    return ecommerce_codes.active_product_ids(
        CourseRun.objects.filter(b2b_contract_id=contract_id).values("pk")
    )


def day_starts(day: date) -> datetime:
    """The first instant of ``day`` in the site's time zone (settings.TIME_ZONE)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def day_ends(day: date) -> datetime:
    """The last instant (microsecond) of ``day`` in the site's time zone."""
    return datetime.combine(day, time.max, tzinfo=ZoneInfo(settings.TIME_ZONE))


def code_stamp(contract: ContractPage) -> CodeStamp:
    """What each of the contract's codes carries: its price, usable from the start of the
    contract's first day to the end of its last day in the site's time zone."""
    start, end = contract.contract_start, contract.contract_end
    return CodeStamp(
        price=contract.price,
        activation=day_starts(start) if start else None,
        expiration=day_ends(end) if end else None,
    )
