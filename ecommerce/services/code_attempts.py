"""The throttle on enrollment-code attempts, against guessing.

Every refused code counts against the learner and against the client address it came from.
Once either has reached its limit (CODE_ATTEMPT_LIMIT_PER_LEARNER, ..._PER_ADDRESS) within a
window of CODE_ATTEMPT_WINDOW_SECONDS, which starts at the first refused code, every code is
refused, a right one too, until the window ends. A code that is accepted clears the learner's
count; the address keeps its count, as other people may share that address.

Counts live in Django's default cache: it must be shared by every web process (CACHE_URL) for
the limits to hold across processes.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from ecommerce.exceptions import CodeRefused, TooManyCodeAttempts
from ecommerce.models import Discount
from ecommerce.services.baskets import apply_code_to_basket
from users.models import User

log = logging.getLogger(__name__)

KEY_PREFIX = "code-attempts"
T = TypeVar("T")


@dataclass(frozen=True)
class _Counter:
    """The wrong codes of one learner or one address, in the current window."""

    name: str
    limit: int

    @property
    def count_key(self) -> str:
        return f"{KEY_PREFIX}:{self.name}:count"

    @property
    def ends_key(self) -> str:
        return f"{KEY_PREFIX}:{self.name}:ends"


def _counters(*, user: User, address: str) -> list[_Counter]:
    counters = [_Counter(f"learner:{user.pk}", settings.CODE_ATTEMPT_LIMIT_PER_LEARNER)]
    if address:
        counters.append(_Counter(f"address:{address}", settings.CODE_ATTEMPT_LIMIT_PER_ADDRESS))
    return counters


def _wait_seconds(counters: list[_Counter], now: float) -> float:
    """How long until every exhausted counter's window ends (0: attempts are allowed)."""
    keys = [key for counter in counters for key in (counter.count_key, counter.ends_key)]
    stored = cache.get_many(keys)
    wait = 0.0
    for counter in counters:
        if stored.get(counter.count_key, 0) >= counter.limit:
            ends = stored.get(counter.ends_key, now + settings.CODE_ATTEMPT_WINDOW_SECONDS)
            wait = max(wait, ends - now)
    return wait


def _count_failure(counters: list[_Counter], now: float) -> None:
    window = settings.CODE_ATTEMPT_WINDOW_SECONDS
    for counter in counters:
        # add() only writes a missing key: the first failure opens the window.
        cache.add(counter.ends_key, now + window, timeout=window)
        count = 1
        if not cache.add(counter.count_key, 1, timeout=window):
            try:
                count = cache.incr(counter.count_key)
            except ValueError:  # the window ended between add() and incr()
                cache.set(counter.count_key, 1, timeout=window)
        if count == counter.limit:
            log.warning(
                "Enrollment codes paused for %s: %d refused codes within %d s",
                counter.name,
                count,
                window,
            )


def apply_code_with_throttle(*, user: User, code: str, address: str) -> Discount:
    """Apply ``code`` to the learner's cart unless they or their address tried too many.

    Raises TooManyCodeAttempts (nothing is looked up) while a limit is reached, and the
    CodeRefused of ``apply_code_to_basket`` (counted) when the code is refused.
    """
    return throttled_code_attempt(
        user=user, address=address, attempt=lambda: apply_code_to_basket(user=user, code=code)
    )


def throttled_code_attempt(*, user: User, address: str, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (a use of a code) under the throttle: refused at once while the learner or
    the address is paused, its CodeRefused counted, a success clearing the learner's count."""
    counters = _counters(user=user, address=address)
    now = time.time()
    wait = _wait_seconds(counters, now)
    if wait > 0:
        raise TooManyCodeAttempts(wait_seconds=wait)
    try:
        result = attempt()
    except CodeRefused:
        _count_failure(counters, now)
        raise
    cache.delete_many([counters[0].count_key, counters[0].ends_key])
    return result
