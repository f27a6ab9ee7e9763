"""A recording survives kill -9: at most the last second is lost, plain and gzip."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hipsense.recording import read_recording

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

# Writes packets for argv[2] seconds reporting progress, then goes idle with data still buffered.
CHILD = """
import sys, time
from hipsense.protocol import SensorInfo
from hipsense.recording import RecordingHeader, RecordingWriter, SensorEntry
info = SensorInfo.for_ranges(sample_rate_hz=100)
writer = RecordingWriter(sys.argv[1], RecordingHeader(sensors=(SensorEntry("thigh", info),)))
i = 0
while writer.elapsed_s() < float(sys.argv[2]):
    t = writer.elapsed_s()
    writer.write_packet("thigh", i.to_bytes(4, "little"), t_host_s=t)
    print(f"{i} {t:.6f}", flush=True)
    i += 1
    time.sleep(0.005)
print("idle", flush=True)
time.sleep(60)
"""


def _run_and_kill(path: Path, *, kill_while_writing: bool) -> tuple[int, float]:
    """Kill the writer with SIGKILL; return the last packet index and time it reported."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), "1.6" if kill_while_writing else "0.3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    last_i, last_t = -1, 0.0
    try:
        for line in child.stdout:
            if line.startswith("idle"):
                time.sleep(1.3)  # longer than the flush interval
                break
            last_i, last_t = int(line.split()[0]), float(line.split()[1])
            if kill_while_writing and last_t >= 1.2:
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    return last_i, last_t


@pytest.mark.parametrize("name", ["k.jsonl", "k.jsonl.gz"])
def test_kill_while_idle_loses_nothing(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    last_i, _ = _run_and_kill(path, kill_while_writing=False)
    rec = read_recording(path)
    assert rec.error is None
    assert len(rec) == last_i + 1
    assert rec.payloads[-1] == last_i.to_bytes(4, "little")


@pytest.mark.parametrize("name", ["w.jsonl", "w.jsonl.gz"])
def test_kill_while_writing_loses_at_most_the_last_second(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _, last_t = _run_and_kill(path, kill_while_writing=True)
    rec = read_recording(path)
    assert rec.error is None
    # 0.3 s of slack for scheduling on a loaded machine.
    assert rec.t_host_s[-1] >= last_t - 1.0 - 0.3
