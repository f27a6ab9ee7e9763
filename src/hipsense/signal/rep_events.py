"""What the rep detector announces, and a snapshot of its state for live displays."""

from __future__ import annotations

from dataclasses import dataclass

from hipsense.signal.quality import Rep


@dataclass(frozen=True)
class RepStarted:
    index: int  # index the rep will get if it completes
    start_s: float
    t_s: float  # when the start was recognised


@dataclass(frozen=True)
class RepPeak:
    index: int
    peak_s: float
    peak_deg: float
    t_s: float


@dataclass(frozen=True)
class RepCompleted:
    rep: Rep

    @property
    def t_s(self) -> float:
        return self.rep.detected_s


RepEvent = RepStarted | RepPeak | RepCompleted


@dataclass(frozen=True)
class DetectorState:
    """A snapshot for live displays, in the primary angle's own sign."""

    active: bool  # a rep is under way
    rest_deg: float  # current valley (rest level); NaN before the first sample
    start_deg: float  # the angle a rep must pass to start
    typical_rom_deg: float  # median range of the last reps (NaN before any)
    count: int
