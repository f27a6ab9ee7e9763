"""``hipsense calibrate-sensor``: the one-time six-face calibration of a sensor, over BLE.

Plain text prompts; the guide (``SixFaceGuide``) finds each still face itself and says why
a pose was refused. The result is saved per sensor (``hipsense.sensors``) and applied
automatically whenever that sensor streams.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hipsense.errors import CalibrationError
from hipsense.samples import STANDARD_GRAVITY_MPS2, SampleBatch
from hipsense.sensors import save_sensor_calibration
from hipsense.signal.sensor_calibration import FaceProgress, SensorCalibration, SixFaceGuide
from hipsense.sources.ble import BackendClasses, SensorLink

INTRO = (
    "Sensor calibration: put the sensor on a table, then lay it on each of its six faces in"
    " turn (any order), holding each still for 2 s. Keep it away from vibration."
)


def _say_changes(say: Callable[[str], None]) -> Callable[[FaceProgress], None]:
    last: list[tuple[str, str | None]] = []

    def show(progress: FaceProgress) -> None:
        now = (progress.message, progress.problem)
        if last and last[-1] == now:
            return
        last.append(now)
        if progress.problem:
            say(f"  ! {progress.problem}")
        say(progress.message)

    return show


async def calibrate_over_link(
    link: SensorLink, say: Callable[[str], None], timeout_s: float = 300.0
) -> SensorCalibration:
    """Guide the six faces on an open link; the calibration once all six are taken."""
    if link.info is None:
        raise CalibrationError("the sensor did not report its sample rate: reconnect it")
    guide = SixFaceGuide(float(link.info.sample_rate_hz))
    show = _say_changes(say)
    show(guide.progress)

    async def run() -> SensorCalibration:
        async for item in link.stream():
            if isinstance(item, SampleBatch):
                show(guide.update(item.acc_mps2, item.gyr_radps))
                if guide.calibration is not None:
                    return guide.calibration
        raise CalibrationError("the sensor stopped streaming before all six faces were done")

    try:
        return await asyncio.wait_for(run(), timeout_s)
    except TimeoutError as exc:
        raise CalibrationError(
            f"not all six faces were held still within {timeout_s:.0f} s: start again"
        ) from exc


def describe(cal: SensorCalibration) -> str:
    offset_mg = 1000 * np.array(cal.acc_offset_mps2) / STANDARD_GRAVITY_MPS2
    scale_pct = 100 * (np.array(cal.acc_scale) - 1)
    bias_dps = np.degrees(cal.gyr_bias_radps)
    return (
        f"accelerometer offset [mg] {np.array2string(offset_mg, precision=1)},"
        f" scale error [%] {np.array2string(scale_pct, precision=2)},"
        f" gyro bias [deg/s] {np.array2string(bias_dps, precision=2)},"
        f" fit residual {1000 * cal.residual_mps2 / STANDARD_GRAVITY_MPS2:.1f} mg"
    )


async def calibrate_sensor_command(
    target: str,
    say: Callable[[str], None] = print,
    *,
    backend: BackendClasses | None = None,
    path: Path | None = None,
    timeout_s: float = 300.0,
) -> SensorCalibration:
    """Connect, guide, save under the sensor's address and name; returns the calibration."""
    say(INTRO)
    async with SensorLink(target, "calibration", backend=backend) as link:
        cal = await calibrate_over_link(link, say, timeout_s)
        sensor = link.sensor
    address = sensor.address if sensor else target
    name = sensor.name if sensor else target
    saved = save_sensor_calibration(address, name, cal, path)
    say(f"calibrated {name} ({address}): {describe(cal)}")
    say(f"saved to {saved}; applied automatically whenever this sensor streams")
    return cal


def run(args: argparse.Namespace) -> int:
    asyncio.run(calibrate_sensor_command(args.sensor, timeout_s=args.timeout))
    return 0
