"""What the user named on the command line -> the sources to read: files, directories, globs, stdin."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import InputError

_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Inputs:
    names: list[str]  # every file to read, in order, each once
    found: frozenset[str]  # those found in a directory or by a glob, not named one by one


def expand_inputs(names: Iterable[str]) -> list[str]:
    """Files as given, directories as their files (recursively, sorted, hidden ones skipped), globs as
    their sorted matches, ``-`` as stdin. A name that matches nothing is an error, never a silent skip."""
    return inputs_of(names).names


def inputs_of(names: Iterable[str]) -> Inputs:
    """``expand_inputs``, with the files a directory or a glob gave: an empty one of those is skipped with a
    note (a log directory's current file is often empty right after its rotation), where an empty file
    named on its own is an error."""
    found: list[str] = []
    expanded: set[str] = set()
    named: set[str] = set()
    for name in names:
        if name == "-":
            found.append(name)
            continue
        path = Path(name)
        if path.is_dir():
            files = _files_in(path)
            if not files:
                raise InputError("the directory holds no files", path=path)
            found += files
            expanded.update(files)
        elif not path.exists() and _GLOB_CHARS & set(name):
            # a directory it matches, as one named: its files (a glob of month folders skipped them)
            matches = [file for match in sorted(glob.glob(name, recursive=True)) for file in _matched(Path(match))]
            if not matches:
                raise InputError("no file matches this pattern", path=name)
            found += matches
            expanded.update(matches)
        else:
            found.append(name)
            named.add(name)
    # a file named twice is read once; named on its own too, it is not skipped when empty
    return Inputs(list(dict.fromkeys(found)), frozenset(expanded - named))


def _files_in(directory: Path) -> list[str]:
    """A directory's files, recursively, sorted, hidden ones (and those in hidden folders) left out."""
    return sorted(
        str(p)
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def _matched(match: Path) -> list[str]:
    """What a glob's match gives: a file, or a directory's files."""
    if match.is_dir():
        return _files_in(match)
    return [str(match)] if match.is_file() else []
