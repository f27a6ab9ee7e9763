"""What the history stores of a rep, for the store's and the history command's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

WED = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)  # a Wednesday noon: same ISO week in any zone


@dataclass(frozen=True)
class StoredRep:  # a RepRecord, as the history sees a rep
    index: int
    start_s: float
    end_s: float
    peak_deg: float
    rom_deg: float
    flags: tuple[str, ...] = ()
