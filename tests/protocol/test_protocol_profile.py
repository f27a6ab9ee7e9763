"""firmware_protocol/profile.json is the single source of truth: the Python codec must agree."""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from hipsense.protocol import control, gatt, hipsense_v1, sensor_info, witmotion
from hipsense.protocol.control import ControlAttError, ControlOpcode

STRUCT_CODES = {"u8": "B", "u16": "H", "u32": "I", "i16": "h", "f32": "f"}


def struct_format(fields: list[dict[str, Any]]) -> str:
    """The little-endian struct format of contiguous fixed-size fields, checking offsets."""
    fmt, offset = "<", 0
    for field in fields:
        assert field["offset"] == offset, f"gap or overlap before {field['name']}"
        code = STRUCT_CODES[field["type"]] * field.get("count", 1)
        fmt += code
        offset += struct.calcsize("<" + code)
    return fmt


def test_uuids_and_version(profile: dict[str, Any]) -> None:
    services = profile["services"]
    ours = services["hipsense"]["characteristics"]
    assert profile["protocol_version"] == gatt.PROTOCOL_VERSION
    assert services["hipsense"]["uuid"] == gatt.SERVICE_UUID
    assert profile["advertising"]["service_uuids"] == [gatt.SERVICE_UUID]
    assert profile["advertising"]["local_name_prefix"] == gatt.LOCAL_NAME_PREFIX
    assert ours["imu_data"]["uuid"] == gatt.IMU_DATA_UUID
    assert ours["sensor_info"]["uuid"] == gatt.SENSOR_INFO_UUID
    assert ours["control"]["uuid"] == gatt.CONTROL_UUID
    assert services["battery"]["uuid"] == gatt.BATTERY_SERVICE_UUID
    assert services["battery"]["characteristics"]["battery_level"]["uuid"] == (
        gatt.BATTERY_LEVEL_UUID
    )
    dis = services["device_information"]
    assert dis["uuid"] == gatt.DEVICE_INFORMATION_SERVICE_UUID
    assert [c["uuid"] for c in dis["characteristics"].values()] == [
        gatt.MANUFACTURER_NAME_UUID,
        gatt.MODEL_NUMBER_UUID,
        gatt.FIRMWARE_REVISION_UUID,
    ]


def test_imu_header_layout(profile: dict[str, Any]) -> None:
    packet = profile["imu_packet"]
    assert struct_format(packet["header"]) == hipsense_v1.HEADER.format
    assert packet["header_size"] == hipsense_v1.HEADER.size
    bits = packet["header"][1]["bits"]
    assert bits["count"]["mask"] == hipsense_v1.COUNT_MASK
    assert bits["count"]["max"] == hipsense_v1.MAX_COUNT
    assert bits["reserved"]["mask"] == hipsense_v1.RESERVED_BIT
    assert bits["mag_present"]["mask"] == hipsense_v1.MAG_FLAG
    assert packet["header"][2]["modulo"] == hipsense_v1.SEQ_MODULO
    assert packet["header"][3]["modulo"] == hipsense_v1.TIME_MODULO_US
    assert packet["att_notify_overhead"] == hipsense_v1.ATT_NOTIFY_OVERHEAD


def test_sample_layouts_match_the_numpy_dtypes(profile: dict[str, Any]) -> None:
    layouts = profile["imu_packet"]["sample_layouts"]
    for name, dtype in [
        ("six_axis", hipsense_v1.SAMPLE_DTYPE),
        ("nine_axis", hipsense_v1.SAMPLE_MAG_DTYPE),
    ]:
        layout = layouts[name]
        assert layout["size"] == dtype.itemsize
        assert [f["name"] for f in layout["fields"]] == list(dtype.names or ())
        for field in layout["fields"]:
            sub, offset = dtype.fields[field["name"]][:2]  # type: ignore[index]
            assert offset == field["offset"]
            assert sub == np.dtype(("<i2", (field["count"],)))


def test_max_samples_examples(profile: dict[str, Any]) -> None:
    for example in profile["imu_packet"]["max_samples_examples"]:
        assert (
            hipsense_v1.max_samples_per_packet(example["mtu"], with_mag=example["mag_present"])
            == example["samples"]
        ), example
    for layout, mtu in profile["imu_packet"]["min_mtu"].items():
        mag = layout == "nine_axis"
        assert hipsense_v1.max_samples_per_packet(mtu, with_mag=mag) == 1
        assert hipsense_v1.max_samples_per_packet(mtu - 1, with_mag=mag) == 0


def test_sensor_info_layout(profile: dict[str, Any]) -> None:
    info = profile["sensor_info"]
    fixed = [f for f in info["fields"] if f["type"] != "utf8"]
    assert struct_format(fixed) == sensor_info.INFO_STRUCT.format
    assert info["fixed_size"] == sensor_info.INFO_STRUCT.size
    model = info["fields"][-1]
    assert (model["offset"], model["max_bytes"]) == (
        sensor_info.INFO_STRUCT.size,
        sensor_info.MODEL_MAX_BYTES,
    )
    assert info["flags"]["mag_available"] == sensor_info.INFO_MAG_AVAILABLE
    assert info["flags"]["streaming"] == sensor_info.INFO_STREAMING
    assert list(info["axis_conventions"]) == [str(sensor_info.AXIS_CONVENTION_BOARD)]
    names = [f.name for f in sensor_info.SensorInfo.__dataclass_fields__.values()]
    assert {f["name"] for f in info["fields"]} - {"flags"} <= set(names)


def test_control_opcodes_errors_and_limits(profile: dict[str, Any]) -> None:
    spec = profile["control"]
    opcodes = {o["name"].upper(): o for o in spec["opcodes"]}
    assert {name: o["code"] for name, o in opcodes.items()} == {
        op.name: op.value for op in ControlOpcode
    }
    assert {e["name"].upper(): e["code"] for e in spec["att_errors"]} == {
        e.name: e.value for e in ControlAttError
    }
    rate = opcodes["SET_SAMPLE_RATE"]["params"][0]
    assert (rate["min"], rate["max"]) == (control.SAMPLE_RATE_MIN_HZ, control.SAMPLE_RATE_MAX_HZ)
    acc, gyr = opcodes["SET_RANGES"]["params"]
    assert tuple(acc["one_of"]) == control.ACC_RANGES_G
    assert tuple(gyr["one_of"]) == control.GYR_RANGES_DPS
    for opcode in spec["opcodes"]:
        assert opcode["length"] == 1 + sum(
            struct.calcsize(STRUCT_CODES[p["type"]]) for p in opcode["params"]
        )


def test_scale_formulae(profile: dict[str, Any]) -> None:
    info = sensor_info.SensorInfo.for_ranges(sample_rate_hz=100, acc_range_g=8, gyr_range_dps=1000)
    g = profile["scales"]["standard_gravity_mps2"]
    assert math.isclose(info.acc_scale_mps2_per_lsb, 8 * g / 32768, rel_tol=1e-7)
    assert math.isclose(info.gyr_scale_radps_per_lsb, 1000 * math.pi / 180 / 32768, rel_tol=1e-7)


def test_witmotion_uuids_are_sig_forms() -> None:
    assert witmotion.WITMOTION_SERVICE_UUID == "0000ffe5-0000-1000-8000-00805f9b34fb"
    assert witmotion.WITMOTION_NOTIFY_UUID == "0000ffe4-0000-1000-8000-00805f9b34fb"


def test_sig_uuids_use_the_bluetooth_base_uuid() -> None:
    from bleak.uuids import normalize_uuid_16

    from hipsense.protocol.gatt import sig_uuid

    for short in (0x180F, 0x2A19, 0x180A, 0xFFE5):
        assert sig_uuid(short) == normalize_uuid_16(short)
