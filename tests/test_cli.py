"""The command line as a user meets it: arguments, help, and one-line errors."""

from pathlib import Path

import pytest

from hipsense.cli import build_parser, main


@pytest.mark.parametrize("speed", ["fast", "-2", "nan", ""])
def test_replay_rejects_a_speed_it_cannot_use(
    tmp_path: Path, speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", str(tmp_path / "s.jsonl.gz"), "--speed", speed])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--speed" in err and "max" in err and "Traceback" not in err


@pytest.mark.parametrize("speed", ["1", "4", "0.5", "max", "MAX"])
def test_replay_accepts_factors_and_max(speed: str) -> None:
    args = build_parser().parse_args(["replay", "s.jsonl.gz", "--speed", speed])
    assert args.speed == speed


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--duration", "-1"],
        ["demo", "--duration", "soon"],
        ["scan", "--timeout", "0"],
        ["calibrate-sensor", "--sensor", "x", "--timeout", "inf"],
    ],
)
def test_seconds_must_be_a_positive_number(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "seconds above 0" in capsys.readouterr().err


def test_every_command_explains_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        assert command.description, name
        for action in command._actions:
            assert action.help, f"hipsense {name} {action.option_strings or action.dest}"
