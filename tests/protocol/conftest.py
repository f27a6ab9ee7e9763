from __future__ import annotations

from typing import Any

import pytest
from protocol_files import FIRMWARE_PROTOCOL, load_json


@pytest.fixture(scope="session")
def profile() -> Any:
    """firmware_protocol/profile.json, the single source of truth of the wire protocol."""
    return load_json(FIRMWARE_PROTOCOL / "profile.json")
