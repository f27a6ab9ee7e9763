"""Offline (forward-backward) fusion of a long recording in overlapping windows.

Memory then grows with the window, not the session: each window is fused with ``MARGIN_S``
of extra samples on both sides (where the forward-backward estimate settles) and only its
core is kept, so pieces can be exported as they come. Without a magnetometer each window's
heading is arbitrary; it is turned about the vertical to match the previous window over their
overlap, so the stitched quaternions have no heading jumps at the seams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.signal.orientation import quat_multiply

FloatArray = npt.NDArray[np.float64]
# (flexion, abduction, quaternion) for the samples of a slice
Fuse = Callable[[slice], tuple[FloatArray, FloatArray, FloatArray]]

WINDOW_S = 300.0  # core of a window: its overlaps cost 2 × MARGIN_S / WINDOW_S extra work
MARGIN_S = 10.0  # well beyond the fusion's time constants (a few seconds)


@dataclass(frozen=True, eq=False)
class AnglePiece:
    """Consecutive samples of the offline result, one row per input sample."""

    t_s: FloatArray
    flexion_deg: FloatArray
    abduction_deg: FloatArray
    quat_wxyz: FloatArray
    angles: bool = True  # False: no angles could be had (their columns are NaN)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def windowed(t_s: FloatArray, rate_hz: float, fuse: Fuse) -> Iterator[AnglePiece]:
    """``fuse`` over overlapping windows of ``t_s``'s samples; the stitched cores, in order."""
    n = len(t_s)
    core, margin = max(1, round(WINDOW_S * rate_hz)), max(1, round(MARGIN_S * rate_hz))
    tail: FloatArray | None = None  # the previous window's quaternions past its core
    for c0 in range(0, n, core):
        c1 = min(n, c0 + core)
        s0, s1 = max(0, c0 - margin), min(n, c1 + margin)
        flex, abd, quat = fuse(slice(s0, s1))
        if tail is not None:
            quat = _turned(quat, _heading_offset(tail, quat[c0 - s0 : c0 - s0 + len(tail)]))
        keep = slice(c0 - s0, c1 - s0)
        yield AnglePiece(t_s[c0:c1], flex[keep], abd[keep], quat[keep])
        tail = quat[c1 - s0 :]


def stitched(pieces: Iterator[AnglePiece]) -> AnglePiece:
    """All pieces as one (for callers that want whole arrays)."""
    got = list(pieces)
    if not got:
        return AnglePiece(np.empty(0), np.empty(0), np.empty(0), np.empty((0, 4)))
    return AnglePiece(
        np.concatenate([p.t_s for p in got]),
        np.concatenate([p.flexion_deg for p in got]),
        np.concatenate([p.abduction_deg for p in got]),
        np.concatenate([p.quat_wxyz for p in got]),
    )


def _heading_offset(reference: FloatArray, quat: FloatArray) -> float:
    """Rotation about world z (rad) taking ``quat`` onto ``reference``, circular mean over
    the samples where both are finite (0 if none)."""
    rel = quat_multiply(reference, quat * np.array([1.0, -1.0, -1.0, -1.0]))
    w, x, y, z = rel.T
    yaw = np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    yaw = yaw[np.isfinite(yaw)]
    return float(np.angle(np.exp(1j * yaw).sum())) if yaw.size else 0.0


def _turned(quat: FloatArray, yaw_rad: float) -> FloatArray:
    if yaw_rad == 0.0:
        return quat
    turn = np.array([np.cos(yaw_rad / 2.0), 0.0, 0.0, np.sin(yaw_rad / 2.0)])
    return quat_multiply(np.broadcast_to(turn, quat.shape), quat)
