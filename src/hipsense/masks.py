"""Runs of True in boolean masks: one helper for the signal layer and for the layers below
it (the recording reader, the virtual sensor), which may not import signal code."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def runs(mask: npt.ArrayLike) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs of a boolean mask."""
    flags = np.asarray(mask, dtype=np.int8).ravel()
    edges = np.diff(np.concatenate([[0], flags, [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))
