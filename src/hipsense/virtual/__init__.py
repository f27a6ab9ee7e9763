"""Virtual sensors on an in-process Bumble radio, and a bleak backend that talks to them.

    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor("hipsense-1A2B", RampSource(), pacing="fast")
        async with SensorLink("hipsense-1A2B", "right_thigh", backend=radio.bleak_backend) as link:
            async for item in link.stream(): ...

``hipsense.virtual.demo.simulated_sensors`` gives sensors playing a simulated warm-up.
"""

from hipsense.virtual.faults import Faults, FaultStats
from hipsense.virtual.link import BleakBackend, VirtualRadio
from hipsense.virtual.motion import ArraySource, MotionSource, RampSource, RawBlock, ramp_block
from hipsense.virtual.sensor import VirtualSensor
from hipsense.virtual.witmotion import VirtualWitMotion

__all__ = [
    "ArraySource",
    "BleakBackend",
    "FaultStats",
    "Faults",
    "MotionSource",
    "RampSource",
    "RawBlock",
    "VirtualRadio",
    "VirtualSensor",
    "VirtualWitMotion",
    "ramp_block",
]
