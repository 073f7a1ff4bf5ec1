"""The array module the engine computes with: NumPy, or any library with NumPy's interface."""

from __future__ import annotations

import numpy

# Every op reaches its array functions through this one name, so a GPU library with
# NumPy's interface (CuPy) can be dropped in here without touching the ops.
xp = numpy
ndarray = xp.ndarray
