"""UUIDs and version of the hipsense GATT profile (firmware_protocol/profile.json is the source)."""

from __future__ import annotations

PROTOCOL_VERSION = 1

_UUID_SUFFIX = "-5c4e-4b8e-9c3d-68697073656e"
SERVICE_UUID = "7a1f0001" + _UUID_SUFFIX
IMU_DATA_UUID = "7a1f0002" + _UUID_SUFFIX
SENSOR_INFO_UUID = "7a1f0003" + _UUID_SUFFIX
CONTROL_UUID = "7a1f0004" + _UUID_SUFFIX

LOCAL_NAME_PREFIX = "hipsense-"


def sig_uuid(short: int) -> str:
    """The 128-bit form of a Bluetooth SIG 16-bit UUID."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


BATTERY_SERVICE_UUID = sig_uuid(0x180F)
BATTERY_LEVEL_UUID = sig_uuid(0x2A19)
DEVICE_INFORMATION_SERVICE_UUID = sig_uuid(0x180A)
MANUFACTURER_NAME_UUID = sig_uuid(0x2A29)
MODEL_NUMBER_UUID = sig_uuid(0x2A24)
FIRMWARE_REVISION_UUID = sig_uuid(0x2A26)
