"""Virtual sensors on an in-process Bumble radio, and a bleak backend that talks to them."""

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
