"""A stream's latest rows, kept as the batches came.

The rest bias tracker and the offset's windows between rests each keep up to 30 s of raw
rows. Stacking every batch onto one array would copy all of that per batch (hundreds of
batches a second). The rows stay in their batches instead, joined only when they are read.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class RowBuffer:
    """Rows of a stream from stream index ``start`` up to ``end`` (exclusive)."""

    def __init__(self, width: int) -> None:
        self._width = width
        self._chunks: list[FloatArray] = []
        self.start = 0
        self.end = 0

    def append(self, rows: FloatArray) -> None:
        """The next batch's rows (N, width)."""
        self._chunks.append(rows)
        self.end += len(rows)

    def rows(self, first: int, stop: int) -> FloatArray:
        """The rows of stream indices ``first`` (at least ``start``) up to ``stop``: a view,
        joined once (later reads reuse the join)."""
        if len(self._chunks) != 1:
            self._chunks = [np.concatenate([np.empty((0, self._width)), *self._chunks])]
        return self._chunks[0][first - self.start : stop - self.start]

    def drop_before(self, index: int) -> None:
        """Forget the rows before stream index ``index`` (whole batches, then the front of
        one)."""
        n = index - self.start
        while n > 0 and self._chunks:
            if len(self._chunks[0]) <= n:
                dropped = len(self._chunks.pop(0))
            else:
                self._chunks[0], dropped = self._chunks[0][n:], n
            n -= dropped
            self.start += dropped

    def subtract(self, columns: slice, amount: FloatArray) -> None:
        """Every kept row's ``columns`` less ``amount``, in place."""
        for chunk in self._chunks:
            chunk[:, columns] -= amount
