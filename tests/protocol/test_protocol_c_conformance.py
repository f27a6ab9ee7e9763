"""The C reference encoder, compiled with the system compiler, agrees with the Python decoder.

A missing compiler FAILS this test on purpose: CI installs gcc, and an untested C encoder
would let firmware drift from the host silently.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from protocol_files import FIRMWARE_PROTOCOL, PACKET_VECTOR_FILES, VECTORS, load_json

from hipsense.protocol import decode_imu_packet, decode_sensor_info
from hipsense.protocol.control import ControlAttError

C_DIR = FIRMWARE_PROTOCOL / "c"
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-Wconversion", "-O1"]
INFO = load_json(VECTORS / "sensor_info.json")
SENSOR_INFO = decode_sensor_info(bytes.fromhex(INFO["hex"]))


@pytest.fixture(scope="module")
def gen_vectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.fail("no C compiler (cc) on PATH: install gcc to check the C reference encoder")
    exe = tmp_path_factory.mktemp("c") / "gen_vectors"
    sources = [str(C_DIR / "gen_vectors.c"), str(C_DIR / "hipsense_protocol.c")]
    build = subprocess.run(
        [compiler, *CFLAGS, "-o", str(exe), *sources], capture_output=True, text=True, check=False
    )
    assert build.returncode == 0, f"C encoder does not compile cleanly:\n{build.stderr}"
    return exe


def run(exe: Path, lines: list[str]) -> list[list[str]]:
    done = subprocess.run(
        [str(exe)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True
    )
    return [line.split() for line in done.stdout.splitlines()]


def imu_command(name: str, expected: dict[str, Any]) -> str:
    rows = [expected["acc_raw"], expected["gyr_raw"]]
    if expected["mag_present"]:
        rows.append(expected["mag_raw"])
    values = np.concatenate([np.asarray(r) for r in rows], axis=1).ravel()
    head = [name, expected["seq"], expected["t0_us"], int(expected["mag_present"])]
    return " ".join(map(str, ["imu", *head, expected["sample_count"], *values]))


def test_c_constants_match_the_profile(gen_vectors: Path, profile: dict[str, Any]) -> None:
    consts = {words[1]: words[2] for words in run(gen_vectors, ["const"]) if words[0] == "const"}
    ours = profile["services"]["hipsense"]
    chars = ours["characteristics"]
    packet = profile["imu_packet"]
    bits = packet["header"][1]["bits"]
    opcodes = {o["name"].upper(): o["code"] for o in profile["control"]["opcodes"]}
    errors = {e["name"].upper(): e["code"] for e in profile["control"]["att_errors"]}
    rate = profile["control"]["opcodes"][2]["params"][0]
    expected = {
        "HSP_PROTOCOL_VERSION": profile["protocol_version"],
        "HSP_SERVICE_UUID_STR": ours["uuid"],
        "hsp_service_uuid_le": ours["uuid"],
        "HSP_IMU_DATA_UUID_STR": chars["imu_data"]["uuid"],
        "hsp_imu_data_uuid_le": chars["imu_data"]["uuid"],
        "HSP_SENSOR_INFO_UUID_STR": chars["sensor_info"]["uuid"],
        "hsp_sensor_info_uuid_le": chars["sensor_info"]["uuid"],
        "HSP_CONTROL_UUID_STR": chars["control"]["uuid"],
        "hsp_control_uuid_le": chars["control"]["uuid"],
        "HSP_LOCAL_NAME_PREFIX": profile["advertising"]["local_name_prefix"],
        "HSP_HEADER_SIZE": packet["header_size"],
        "HSP_COUNT_MASK": bits["count"]["mask"],
        "HSP_MAX_COUNT": bits["count"]["max"],
        "HSP_RESERVED_BIT": bits["reserved"]["mask"],
        "HSP_MAG_FLAG": bits["mag_present"]["mask"],
        "HSP_SAMPLE_SIZE": packet["sample_layouts"]["six_axis"]["size"],
        "HSP_SAMPLE_MAG_SIZE": packet["sample_layouts"]["nine_axis"]["size"],
        "HSP_ATT_NOTIFY_OVERHEAD": packet["att_notify_overhead"],
        "HSP_INFO_FIXED_SIZE": profile["sensor_info"]["fixed_size"],
        "HSP_MODEL_MAX_BYTES": profile["sensor_info"]["fields"][-1]["max_bytes"],
        "HSP_INFO_MAG_AVAILABLE": profile["sensor_info"]["flags"]["mag_available"],
        "HSP_INFO_STREAMING": profile["sensor_info"]["flags"]["streaming"],
        "HSP_RATE_MIN_HZ": rate["min"],
        "HSP_RATE_MAX_HZ": rate["max"],
        **{f"HSP_OP_{name}": code for name, code in opcodes.items()},
        **{f"HSP_ATT_ERR_{name}": code for name, code in errors.items()},
    }
    assert consts == {name: str(value) for name, value in expected.items()}


def test_c_encoder_output_decodes_to_the_vector_values(gen_vectors: Path) -> None:
    commands, packets = [], {}
    for path in PACKET_VECTOR_FILES:
        for i, packet in enumerate(load_json(path)["packets"]):
            name = f"{path.stem}.{i}"
            commands.append(imu_command(name, packet["expected"]))
            packets[name] = packet
    answers = {words[1]: words[2:] for words in run(gen_vectors, commands)}
    assert set(answers) == set(packets)
    for name, packet in packets.items():
        (hex_out,) = answers[name]
        expected = packet["expected"]
        decoded = decode_imu_packet(bytes.fromhex(hex_out), SENSOR_INFO)
        assert (decoded.seq, decoded.t0_us, decoded.sample_count) == (
            expected["seq"],
            expected["t0_us"],
            expected["sample_count"],
        ), name
        np.testing.assert_array_equal(decoded.acc_raw, expected["acc_raw"], err_msg=name)
        np.testing.assert_array_equal(decoded.gyr_raw, expected["gyr_raw"], err_msg=name)
        if expected["mag_present"]:
            np.testing.assert_array_equal(decoded.mag_raw, expected["mag_raw"], err_msg=name)
        assert hex_out == packet["hex"], f"{name}: C and golden bytes differ"


def test_c_encoder_rejects_bad_counts(gen_vectors: Path) -> None:
    answers = run(gen_vectors, ["imu zero 0 0 0 0", "imu many 0 0 0 64"])
    assert answers == [["imu", "zero", "error", "-2"], ["imu", "many", "error", "-2"]]


def test_c_sensor_info_matches_the_vector(gen_vectors: Path) -> None:
    e = INFO["expected"]
    fields = [
        e["flags"],
        e["sample_rate_hz"],
        e["acc_range_g"],
        e["gyr_range_dps"],
        repr(e["acc_scale_mps2_per_lsb"]),
        repr(e["gyr_scale_radps_per_lsb"]),
        repr(e["mag_scale_ut_per_lsb"]),
        e["axis_convention"],
        e["model"].encode().hex(),
    ]
    ((_, _, hex_out),) = run(gen_vectors, [" ".join(map(str, ["info", "xiao", *fields]))])
    assert decode_sensor_info(bytes.fromhex(hex_out)) == SENSOR_INFO
    assert hex_out == INFO["hex"]


def test_c_truncates_the_model_name_on_a_character_boundary(gen_vectors: Path) -> None:
    model = "Sensör-ü-ßenß-long".encode().hex()  # byte 16 is the first half of the last ß
    ((_, _, hex_out),) = run(gen_vectors, [f"info long 0 100 16 2000 0.1 0.1 0.1 0 {model}"])
    info = decode_sensor_info(bytes.fromhex(hex_out))
    assert info.model == "Sensör-ü-ßen"
    assert len(info.model.encode()) == 15


@pytest.mark.parametrize(
    "case", load_json(VECTORS / "control.json")["cases"], ids=lambda c: c["name"]
)
def test_c_control_parser_matches_the_vectors(gen_vectors: Path, case: dict[str, Any]) -> None:
    ((_, _, status, *fields),) = run(gen_vectors, [f"ctrl {case['name']} {case['hex'] or '-'}"])
    if "command" in case:
        cmd = case["command"]
        assert status == "ok"
        assert [int(f) for f in fields] == [
            cmd["opcode"],
            cmd.get("sample_rate_hz", 0),
            cmd.get("acc_range_g", 0),
            cmd.get("gyr_range_dps", 0),
        ]
    else:
        assert status == "error"
        assert ControlAttError(int(fields[0])) == case["att_error"]


def test_c_max_samples_matches_the_profile(gen_vectors: Path, profile: dict[str, Any]) -> None:
    examples = profile["imu_packet"]["max_samples_examples"]
    answers = run(gen_vectors, [f"maxs {e['mtu']} {int(e['mag_present'])}" for e in examples])
    assert [int(words[3]) for words in answers] == [e["samples"] for e in examples]


def test_c_library_includes_only_portable_headers() -> None:
    allowed = {"<stdint.h>", "<stddef.h>", "<string.h>", '"hipsense_protocol.h"'}
    for name in ("hipsense_protocol.h", "hipsense_protocol.c"):
        lines = (C_DIR / name).read_text(encoding="utf-8").splitlines()
        includes = {line.split()[1] for line in lines if line.startswith("#include")}
        assert includes <= allowed, f"{name} includes {includes - allowed}"
        assert "malloc" not in (C_DIR / name).read_text(encoding="utf-8")
