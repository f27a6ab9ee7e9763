"""A copy of one of the sample recordings with its header edited, for the commands' tests."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def with_edited_header(
    path: Path, edit: Callable[[dict[str, Any]], None], source: str = "slr_right.jsonl.gz"
) -> Path:
    """``source`` written to ``path`` (plain JSON Lines) after ``edit`` changed its header."""
    lines = gzip.decompress((RECORDINGS / source).read_bytes()).splitlines()
    header = json.loads(lines[0])
    edit(header)
    path.write_bytes(b"\n".join([json.dumps(header).encode(), *lines[1:]]) + b"\n")
    return path


def bad_sensor_calibration(header: dict[str, Any]) -> None:
    """A six-face calibration with a two-axis offset: unusable, named at line 1."""
    header["sensors"][0]["sensor_calibration"] = {"acc_offset_mps2": [1, 2]}
