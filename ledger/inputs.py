"""What the user named on the command line -> the sources to read: files, directories, globs, stdin."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from ledger.errors import InputError

_GLOB_CHARS = set("*?[")


def expand_inputs(names: Iterable[str]) -> list[str]:
    """Files as given, directories as their files (recursively, sorted, hidden ones skipped), globs as
    their sorted matches, ``-`` as stdin. A name that matches nothing is an error, never a silent skip."""
    found: list[str] = []
    for name in names:
        if name == "-":
            found.append(name)
            continue
        path = Path(name)
        if path.is_dir():
            files = sorted(
                str(p)
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not files:
                raise InputError("the directory holds no files", path=path)
            found += files
        elif not path.exists() and _GLOB_CHARS & set(name):
            matches = sorted(m for m in glob.glob(name, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError("no file matches this pattern", path=name)
            found += matches
        else:
            found.append(name)
    return list(dict.fromkeys(found))  # a file named twice is read once
