"""Part counters as machines keep them: from one raw reading to the next, how many parts.

A PLC's counter is a register that counts up, wraps to zero at the end of its range (65,536
for a 16-bit register, 2³² for a 32-bit one) and is set back to zero by a reset (a new
shift, a new job, a power cycle). Between two readings the parts made are:

- the first reading after the map linked the machine: none (it is the baseline; what the
  counter held before is not ours to count);
- the raw value went up: the difference;
- it went down: either it wrapped or it was reset. A wrap is taken when the parts it implies
  (range − previous + new) are at most 1/16 of the range — 4,096 parts for a 16-bit
  counter, about 268 million for a 32-bit one, far more than any machine makes between two
  readings; anything else is a reset, and the new raw value counts from zero (the parts
  made since the reset). A counter without a range (float32) is reset by every drop.

Signed types (int16, int32) are read as the same bits unsigned, so a counter that runs past
32,767 into negative numbers keeps counting. Pure: no Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Share of the range a wrap may imply (see the module docstring).
WRAP_WINDOW_DIVISOR = 16


class CounterValueError(ValueError):
    """A reading that is not a counter value (not a whole number, negative without a range)."""


@dataclass(frozen=True, slots=True)
class CounterStep:
    """Parts between two readings and how they were found."""

    delta: int
    raw: int  # the reading, normalised into the counter's range
    wrapped: bool = False
    reset: bool = False
    baseline: bool = False  # the first reading: no parts


def counter_raw(raw: float | int, modulus: int | None) -> int:
    """The reading as a whole number within the counter's range; CounterValueError if it is
    not one (NaN, 2.5, a negative reading of a counter without a range)."""
    if isinstance(raw, bool):
        raw = int(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw) or not raw.is_integer():
            raise CounterValueError(f"{raw!r} is not a whole count")
        raw = int(raw)
    if not isinstance(raw, int):
        raise CounterValueError(f"{raw!r} is not a number")
    if modulus:
        if not -modulus <= raw < modulus:
            raise CounterValueError(f"{raw} is outside the counter's range of {modulus}")
        return raw % modulus
    if raw < 0:
        raise CounterValueError(f"{raw} is negative")
    return raw


def counter_step(last_raw: int | None, raw: int, modulus: int | None) -> CounterStep:
    """Parts since the last reading (see the module docstring); `raw` from `counter_raw`."""
    if last_raw is None:
        return CounterStep(delta=0, raw=raw, baseline=True)
    if raw >= last_raw:
        return CounterStep(delta=raw - last_raw, raw=raw)
    if modulus:
        wrapped = modulus - last_raw + raw
        if wrapped <= modulus // WRAP_WINDOW_DIVISOR:
            return CounterStep(delta=wrapped, raw=raw, wrapped=True)
    return CounterStep(delta=raw, raw=raw, reset=True)
