"""argparse ``type=`` checks for numeric options: nonsense is refused with a message naming the
range, before any model loads (``--threads 0`` used to surface as "not a readable ONNX model",
``--max-frames -1`` ran one frame)."""
from __future__ import annotations

import argparse
import math
from typing import Callable


def _number(kind: type, text: str) -> "int | float":
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{'an integer' if kind is int else 'a number'} expected, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"a finite number expected, got {text!r}")
    return value


def int_at_least(low: int) -> Callable[[str], int]:
    def check(text: str) -> int:
        value = _number(int, text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    check.__name__ = f"integer >= {low}"
    return check


def float_at_least(low: float, inclusive: bool = True) -> Callable[[str], float]:
    def check(text: str) -> float:
        value = _number(float, text)
        if value < low or (not inclusive and value == low):
            raise argparse.ArgumentTypeError(f"must be {'at least' if inclusive else 'more than'} {low:g}, got {value:g}")
        return value
    check.__name__ = f"number {'>=' if inclusive else '>'} {low:g}"
    return check


def open_unit_interval(text: str) -> float:
    """A probability threshold strictly between 0 and 1."""
    value = _number(float, text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {value:g}")
    return value


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)
positive_float = float_at_least(0.0, inclusive=False)
non_negative_float = float_at_least(0.0)
