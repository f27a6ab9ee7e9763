"""The architecture's import rules, checked on the source (no module is imported)."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hipsense"
BLEAK_ALLOWED = ("sources/ble.py", "virtual/")  # the client, and the bleak backend on Bumble


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py")) if package else sorted(SRC.rglob("*.py"))


def _top(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("path", _modules(""), ids=lambda p: str(p.relative_to(SRC)))
def test_only_the_ble_client_and_its_virtual_backend_import_bleak(path: Path) -> None:
    rel = str(path.relative_to(SRC))
    if "bleak" in _top(_imports(path)):
        assert rel.startswith(BLEAK_ALLOWED), f"{rel} imports bleak"


PROTOCOL_MAY_USE = {
    "__future__",
    "struct",
    "math",
    "dataclasses",
    "enum",
    "typing",
    "collections",
    "numpy",
}


@pytest.mark.parametrize("path", _modules("protocol"), ids=lambda p: p.name)
def test_protocol_is_pure(path: Path) -> None:
    names = _imports(path)
    ours = {n for n in names if n.startswith("hipsense")}
    assert all(
        n in {"hipsense.errors", "hipsense.samples"} or n.startswith("hipsense.protocol")
        for n in ours
    )
    assert _top(names - ours) <= PROTOCOL_MAY_USE


@pytest.mark.parametrize("path", _modules("signal"), ids=lambda p: p.name)
def test_signal_never_does_io_or_ui(path: Path) -> None:
    banned = {"bleak", "bumble", "textual", "asyncio", "sqlite3", "socket"}
    assert not (_top(_imports(path)) & banned)
    assert not any(
        n.startswith(("hipsense.sources", "hipsense.tui", "hipsense.session"))
        for n in _imports(path)
    )


@pytest.mark.parametrize("path", _modules("tui"), ids=lambda p: str(p.relative_to(SRC)))
def test_tui_never_touches_bluetooth_or_signal_internals(path: Path) -> None:
    names = _imports(path)
    assert not (_top(names) & {"bleak", "bumble"})
    assert not any(n.startswith(("hipsense.signal", "hipsense.sources")) for n in names)


@pytest.mark.parametrize("path", _modules("sources"), ids=lambda p: p.name)
def test_sources_never_import_signal_or_tui(path: Path) -> None:
    assert not any(n.startswith(("hipsense.signal", "hipsense.tui")) for n in _imports(path))
