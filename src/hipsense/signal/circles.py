"""Hip circles: the direction of one circle of the knee.

Each circle is one up-and-down cycle of flexion, so the rep detector counts circles like
swings; the direction comes from the signed area the knee's path encloses in the
(sideways, flexion) plane (shoelace formula), which is robust to where the circle sits,
to noise and to gaps. Direction is named as the person sees the path (looking forward,
from behind): sideways is +x to the person's right, so abduction counts as +x for the
right leg and -x for the left.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hipsense.exercises import Leg

FloatArray = npt.NDArray[np.float64]

CLOCKWISE = "clockwise"
ANTICLOCKWISE = "anticlockwise"


def signed_area_deg2(x_deg: FloatArray, y_deg: FloatArray) -> float:
    """Signed area of the closed path (positive when it turns anticlockwise)."""
    x, y = x_deg - x_deg.mean(), y_deg - y_deg.mean()
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def circle_direction(flexion_deg: FloatArray, abduction_deg: FloatArray, leg: Leg | None) -> str:
    """``clockwise`` or ``anticlockwise`` as the person sees it (right leg if ``leg`` is None)."""
    ok = np.isfinite(flexion_deg) & np.isfinite(abduction_deg)
    x_sign = -1.0 if leg is Leg.LEFT else 1.0
    area = signed_area_deg2(x_sign * abduction_deg[ok], flexion_deg[ok])
    return ANTICLOCKWISE if area > 0 else CLOCKWISE
