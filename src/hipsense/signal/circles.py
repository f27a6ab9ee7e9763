"""Hip circles: the direction of one circle of the knee.

Each circle is one up-and-down cycle of flexion, so the rep detector counts circles like
swings; the direction comes from the signed area the knee's path encloses in the
(abduction, flexion) plane (shoelace formula), which does not depend on where the circle
sits, on noise or on gaps. Abduction is positive away from the midline for either leg, so
the names are the same for both legs:

- ``outward``: the knee rises on the outside and comes down across the midline
  (bottom -> out -> top -> in);
- ``inward``: the knee rises on the inside and comes down on the outside.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

OUTWARD = "outward"
INWARD = "inward"


def signed_area_deg2(x_deg: FloatArray, y_deg: FloatArray) -> float:
    """Signed area of the closed path (positive when it turns anticlockwise in x-y)."""
    x, y = x_deg - x_deg.mean(), y_deg - y_deg.mean()
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def circle_direction(flexion_deg: FloatArray, abduction_deg: FloatArray) -> str:
    """``outward`` or ``inward`` for one circle's samples (NaN samples are ignored)."""
    ok = np.isfinite(flexion_deg) & np.isfinite(abduction_deg)
    area = signed_area_deg2(abduction_deg[ok], flexion_deg[ok])
    return OUTWARD if area > 0 else INWARD
