"""Offline (forward-backward) fusion of a long recording in overlapping windows.

Memory then grows with the window, not the session: each window is fused with ``MARGIN_S``
of extra samples on both sides (where the forward-backward estimate settles) and only its
core is kept, so pieces can be exported as they come. Without a magnetometer each window's
heading is arbitrary; it is turned about the vertical to match the previous window over their
overlap, so the stitched quaternions have no heading jumps at the seams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.signal.orientation import quat_conjugate, quat_multiply

FloatArray = npt.NDArray[np.float64]
# (t_s, acc_mps2, gyr_radps) of consecutive samples -> (flexion, abduction, quaternion)
Fuse = Callable[[FloatArray, FloatArray, FloatArray], tuple[FloatArray, FloatArray, FloatArray]]

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


class WindowedFusion:
    """Samples pushed batch by batch; pieces come out as soon as a window's trailing margin
    has arrived (and ``fuse`` is set: until then everything is held). Only the samples a
    later window still needs are kept."""

    def __init__(self, rate_hz: float, fuse: Fuse | None = None) -> None:
        self.fuse = fuse
        self._core = max(1, round(WINDOW_S * rate_hz))
        self._margin = max(1, round(MARGIN_S * rate_hz))
        self._t, self._acc, self._gyr = np.empty(0), np.empty((0, 3)), np.empty((0, 3))
        self._base = 0  # sample number of the first held sample
        self._next = 0  # sample number where the next window's core starts
        self._tail: FloatArray | None = None  # the last window's quaternions past its core

    @property
    def held(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The samples held (all of them while ``fuse`` is unset)."""
        return self._t, self._acc, self._gyr

    def push(
        self, t_s: FloatArray, acc_mps2: FloatArray, gyr_radps: FloatArray
    ) -> list[AnglePiece]:
        self._t = np.concatenate((self._t, t_s))
        self._acc = np.concatenate((self._acc, acc_mps2))
        self._gyr = np.concatenate((self._gyr, gyr_radps))
        out: list[AnglePiece] = []
        while self.fuse is not None and self._end >= self._next + self._core + self._margin:
            out.append(self._window(self._next + self._core))
        return out

    def finish(self) -> list[AnglePiece]:
        out: list[AnglePiece] = []
        while self.fuse is not None and self._next < self._end:
            out.append(self._window(min(self._end, self._next + self._core)))
        return out

    @property
    def _end(self) -> int:
        return self._base + len(self._t)

    def _window(self, c1: int) -> AnglePiece:
        assert self.fuse is not None
        c0 = self._next
        s0, s1 = (
            max(0, c0 - self._margin) - self._base,
            min(self._end, c1 + self._margin) - self._base,
        )
        flex, abd, quat = self.fuse(self._t[s0:s1], self._acc[s0:s1], self._gyr[s0:s1])
        first = c0 - self._base - s0  # the core within the window
        if self._tail is not None:
            quat = _turned(quat, _heading_offset(self._tail, quat[first : first + len(self._tail)]))
        keep = slice(first, first + c1 - c0)
        piece = AnglePiece(
            self._t[c0 - self._base : c1 - self._base], flex[keep], abd[keep], quat[keep]
        )
        self._tail = quat[keep.stop :]
        self._next = c1
        drop = max(0, c1 - self._margin - self._base)  # the next window starts there
        self._t, self._acc, self._gyr = self._t[drop:], self._acc[drop:], self._gyr[drop:]
        self._base += drop
        return piece


def stitched(pieces: Iterable[AnglePiece]) -> AnglePiece:
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
    rel = quat_multiply(reference, quat_conjugate(quat))
    w, x, y, z = rel.T
    yaw = np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    yaw = yaw[np.isfinite(yaw)]
    return float(np.angle(np.exp(1j * yaw).sum())) if yaw.size else 0.0


def _turned(quat: FloatArray, yaw_rad: float) -> FloatArray:
    if yaw_rad == 0.0:
        return quat
    turn = np.array([np.cos(yaw_rad / 2.0), 0.0, 0.0, np.sin(yaw_rad / 2.0)])
    return quat_multiply(np.broadcast_to(turn, quat.shape), quat)
