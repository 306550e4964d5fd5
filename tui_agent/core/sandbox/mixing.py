"""Why a call looks like a verification: the same request shape, the same per-case timeouts,
verified cases drawn at random beside the person's arguments, all in random order.

A tool under test shares its process with the runner and can read the whole request from its own
stack. If a call were one case with no timeout and a verification several cases with one, a tool
could pass its tests and answer a person wrongly. Mixed in like this, what a tool can see of a
call it also sees under verification; and a tool that still misbehaves on the verified cases in a
call is caught there, because the host judges those cases before it accepts the answer. (A tool
that knows its own test inputs by heart can still single them out: no test can see past that,
which is why :mod:`synthesis` rejects code that answers its tests from a table.)"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_random = random.SystemRandom()

FEWEST_CHECKS = 2
MOST_CHECKS = 4


def draw_checks(cases: Sequence[T]) -> list[T]:
    """Between FEWEST_CHECKS and MOST_CHECKS of ``cases`` (all of them when there are fewer),
    drawn at random: a call never carries a count a tool could learn."""
    if len(cases) <= FEWEST_CHECKS:
        return list(cases)
    count = _random.randint(FEWEST_CHECKS, min(MOST_CHECKS, len(cases)))
    return _random.sample(list(cases), count)


def shuffled_order(count: int) -> list[int]:
    """A random permutation of ``range(count)``: ``order[i]`` is the item run in place ``i``."""
    order = list(range(count))
    _random.shuffle(order)
    return order


def unshuffled(items: Sequence[T], order: Sequence[int]) -> list[T]:
    """``items`` (in run order) put back in the original order."""
    out: list[T | None] = [None] * len(order)
    for place, original in enumerate(order):
        out[original] = items[place]
    return out  # type: ignore[return-value]
