"""Values that cross the boundary between sources and the signal pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

STANDARD_GRAVITY_MPS2 = 9.80665


@dataclass(frozen=True, eq=False)
class SampleBatch:
    """Consecutive IMU samples of one sensor, in SI units.

    ``t_s`` holds each sample's time in seconds in the input's time base (host clock for live
    data, the file's clock for imports). ``lost_before`` counts samples known to be missing
    immediately before the first one (from the sequence counter), so consumers can mark gaps.
    """

    sensor_id: str
    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    mag_ut: FloatArray | None = None
    lost_before: int = 0
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n = self.t_s.shape[0]
        if self.acc_mps2.shape != (n, 3) or self.gyr_radps.shape != (n, 3):
            raise ValueError(
                f"SampleBatch arrays disagree: t_s has {n} samples, acc {self.acc_mps2.shape},"
                f" gyr {self.gyr_radps.shape}"
            )
        if self.mag_ut is not None and self.mag_ut.shape != (n, 3):
            raise ValueError(f"SampleBatch mag_ut has shape {self.mag_ut.shape}, expected ({n}, 3)")

    def __len__(self) -> int:
        return int(self.t_s.shape[0])
