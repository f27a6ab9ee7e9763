"""Plain words for what the session reports (pure functions, easy to test and reuse)."""

from __future__ import annotations

from dataclasses import dataclass

from hipsense.events import CalibrationPhase, LinkUpdate, RepUpdate, SetUpdate, SlrUpdate
from hipsense.exercises import (
    DOWN_LEG_MOVED,
    NO_HOLD,
    OFF_PLANE,
    RUSHED,
    SHORT_RANGE,
    SLOW_LOWERING_MISSED,
)


@dataclass(frozen=True)
class FlagText:
    """How a quality flag reads: a few words after a rep, a line of advice in the help."""

    words: str
    advice: str


FLAG_TEXTS: dict[str, FlagText] = {
    SHORT_RANGE: FlagText("short range", "reach as far as your usual good reps"),
    RUSHED: FlagText("rushed", "slow down, take the whole movement"),
    SLOW_LOWERING_MISSED: FlagText("lower more slowly", "take at least 3 s on the way down"),
    OFF_PLANE: FlagText("stay in line", "keep the swing in one plane"),
    NO_HOLD: FlagText("hold at the top", "pause briefly at the highest point"),
    DOWN_LEG_MOVED: FlagText("other leg moved", "keep the other leg flat on the floor"),
}

CALIBRATION_TITLES: dict[CalibrationPhase, str] = {
    "still": "Stand still",
    "swings": "3 slow forward swings",
    "still-again": "Stand still again",
    "lie-still": "Lie still",
    "first-raise": "Raise the leg once, slowly",
    "done": "Calibrated",
    "failed": "Calibration failed",
}

STANDING_STEPS: tuple[CalibrationPhase, ...] = ("still", "swings", "still-again")
SUPINE_STEPS: tuple[CalibrationPhase, ...] = ("lie-still", "first-raise")

SYMMETRIC_BELOW_PCT = 10.0


def role_name(role: str) -> str:
    return role.replace("-", " ").replace("_", " ")


def flag_word(flag: str) -> str:
    """A flag's words; one without an entry (e.g. a circle's direction) is shown as it is."""
    text = FLAG_TEXTS.get(flag)
    return text.words if text else flag.replace("-", " ")


def flag_words(flags: tuple[str, ...]) -> str:
    if not flags:
        return "good rep"
    return ", ".join(flag_word(f) for f in flags)


def flag_help_lines() -> list[str]:
    """The help's table of feedback words and what to do about each."""
    width = max(len(t.words) for t in FLAG_TEXTS.values())
    return [f"  {t.words.ljust(width)}  {t.advice}" for t in FLAG_TEXTS.values()]


def deg(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}°"


def line_deg(value: float | None) -> str:
    """A standard's line or a target to a tenth (75.5°, not 76°: a 75.6° best passes it, a
    75.4° one does not), whole degrees without the .0 (90°)."""
    return "—" if value is None else f"{value:.1f}".removesuffix(".0") + "°"


def rep_line(rep: RepUpdate) -> str:
    parts = [f"Rep {rep.index}"]
    if rep.rom_deg is not None:
        parts.append(f"{rep.rom_deg:.0f}° range")
    if rep.duration_s is not None:
        parts.append(f"{rep.duration_s:.1f} s")
    return " · ".join(parts)


def rep_words(rep: RepUpdate) -> str:
    """A completed rep's flags in words; where the other leg moved during an SLR, the angle
    the raise is measured at then."""
    words = flag_words(rep.flags)
    if rep.down_leg_moved_deg is not None:
        words += f" at {deg(rep.down_leg_moved_deg)}: measured there"
    return words


def set_summary(update: SetUpdate) -> list[str]:
    lines = [f"{update.leg.capitalize()} leg set: {update.rep_count} of {update.target_reps} reps"]
    if update.mean_rom_deg is not None:
        spread = f" ±{update.rom_cv_pct:.0f}%" if update.rom_cv_pct is not None else ""
        lines.append(f"range {deg(update.mean_rom_deg)}{spread}, best {deg(update.best_rom_deg)}")
    if update.mean_duration_s is not None:
        lines.append(f"{update.mean_duration_s:.1f} s per rep")
    flagged = [f"{flag_word(f)} ×{n}" for f, n in update.flag_counts if n]
    lines.append(", ".join(flagged) if flagged else "clean set")
    return lines


def symmetry_line(si_pct: float | None) -> str:
    if si_pct is None:
        return "Symmetry: after both legs"
    verdict = "symmetric" if abs(si_pct) < SYMMETRIC_BELOW_PCT else "uneven"
    return f"Left/right SI {si_pct:+.0f}% ({verdict})"


def link_line(role: str, link: LinkUpdate | None, *, replay: bool = False) -> str:
    """Status bar markup for one sensor (a replay has no link: it says so). Recording is
    shown once, in the header: here it would be cut off first on a narrow terminal."""
    if link is None:
        waiting = "replaying a recording" if replay else "waiting for the sensor…"
        return f"[b]{role_name(role)}[/b]  {waiting}"
    state = {
        "connected": "[green]● connected[/]",
        "reconnecting": "[yellow]◌ reconnecting…[/]",
        "disconnected": "[red]○ disconnected[/]",
    }.get(link.state, f"◌ {link.state}…")
    battery = "battery —" if link.battery_pct is None else f"battery {link.battery_pct}%"
    rate = "— Hz" if link.rate_hz is None else f"{link.rate_hz:.0f} Hz"
    return (
        f"[b]{link.name}[/b] ({role_name(role)})  {state}  {battery}  {rate}"
        f"  loss {link.loss_pct:.1f}%"
    )


def slr_leg_lines(leg: str, result: SlrUpdate | None, trials: int) -> list[str]:
    title = f"[b]{leg.capitalize()} leg[/b]"
    if result is None:
        return [title, "not tested yet"]
    counted = result.trials_counted or (True,) * len(result.trial_peaks_deg)
    # a rushed raise set aside (it does not count toward the best) shows in brackets
    peaks = [deg(p) if c else f"({deg(p)})"
             for p, c in zip(result.trial_peaks_deg, counted, strict=True)]  # fmt: skip
    peaks += ["—"] * max(0, trials - len(peaks))
    # The trials on their own line: after the title they wrapped at 80 columns, leaving the
    # third trial alone on the next line like another number.
    lines = [title, f"trials {'  '.join(peaks)}", f"best {deg(result.best_deg)}"]
    moved = [str(i + 1) for i, m in enumerate(result.trials_down_leg_moved) if m]
    if moved:  # those trials are measured where the other leg moved, not at their top
        lines.insert(2, f"trial {', '.join(moved)}: other leg moved")
    if result.grade is not None:
        lines[-1] += f" · grade {result.grade}"
    if result.passed is not None:
        line = "passes" if result.passed else "below"
        lines.append(f"{line} the {line_deg(result.pass_line_deg)} line")
    if result.previous_best_deg is not None and result.change_deg is not None:
        real = "real change" if result.real_change else "within error"
        # "last", not "last test": the line then fits the 30 columns the panel has at 80.
        lines.append(f"last {deg(result.previous_best_deg)}: {result.change_deg:+.0f}° ({real})")
    return lines
