"""Paths and loaders for firmware_protocol/: the profile and the golden vectors.

A uniquely named module rather than conftest, so ``import`` never picks another directory's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIRMWARE_PROTOCOL = Path(__file__).resolve().parents[2] / "firmware_protocol"
VECTORS = FIRMWARE_PROTOCOL / "vectors"
PACKET_VECTOR_FILES = sorted(
    p for p in VECTORS.glob("*.json") if p.stem not in {"invalid_packets", "sensor_info", "control"}
)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
