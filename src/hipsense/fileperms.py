"""Files and folders only their owner can read: recordings and history hold health data."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate newlines
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def create_private_file(path: str | os.PathLike[str], *, overwrite: bool = False) -> int:
    """Open ``path`` for writing with mode 0600 and return the descriptor.

    Without ``overwrite`` the file must not exist (O_EXCL), so nothing is ever clobbered and
    no other user can have pre-created it with looser permissions. With ``overwrite`` an
    existing file is truncated and its mode tightened to 0600 as well.
    """
    flags = os.O_WRONLY | os.O_CREAT | _BINARY | _CLOEXEC
    flags |= os.O_TRUNC if overwrite else os.O_EXCL
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    if overwrite and hasattr(os, "fchmod"):
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
        except OSError:
            os.close(fd)
            raise
    return fd


def ensure_private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) if missing; every folder we create gets mode 0700.

    Parents too: ``mkdir(parents=True)`` gives them the umask's mode (0777 under umask
    000), and in a world-writable parent anyone could swap the private folder for theirs."""
    folder = Path(path)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for created in reversed(missing):  # outermost first
        created.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        created.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    return folder


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """os.write until every byte is written (a single write may be partial)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
