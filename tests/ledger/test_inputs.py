"""What the command line names -> the files to read (``ledger.inputs``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import InputError
from ledger.inputs import expand_inputs, inputs_of


@pytest.fixture
def months(tmp_path: Path) -> Path:
    """logs/2026-10/{a.log, .b.log, .old/c.log}, logs/2026-11/d.log.gz, logs/top.log, logs/empty/."""
    logs = tmp_path / "logs"
    for name in ("2026-10/a.log", "2026-10/.b.log", "2026-10/.old/c.log", "2026-11/d.log.gz", "top.log"):
        (logs / name).parent.mkdir(parents=True, exist_ok=True)
        (logs / name).write_text("x\n")
    (logs / "empty").mkdir()
    return logs


def test_a_directory_gives_its_files_recursively_sorted_without_hidden_ones(months: Path) -> None:
    assert expand_inputs([str(months)]) == [
        str(months / "2026-10/a.log"),
        str(months / "2026-11/d.log.gz"),
        str(months / "top.log"),
    ]


def test_a_glob_gives_the_files_of_the_directories_it_matches(months: Path) -> None:
    """A glob of month folders skipped them all without a word: only files matched."""
    assert expand_inputs([str(months / "*")]) == [
        str(months / "2026-10/a.log"),
        str(months / "2026-11/d.log.gz"),
        str(months / "top.log"),
    ]
    two = [str(months / "2026-10/a.log"), str(months / "2026-11/d.log.gz")]
    assert expand_inputs([str(months / "2026-1[01]")]) == two


def test_a_glob_or_a_directory_that_gives_no_file_is_an_error(months: Path) -> None:
    with pytest.raises(InputError, match="no file matches this pattern"):
        expand_inputs([str(months / "emp*")])
    with pytest.raises(InputError, match="the directory holds no files"):
        expand_inputs([str(months / "empty")])


def test_files_found_are_told_from_files_named(months: Path) -> None:
    """An empty file found in a directory or by a glob is skipped; named on its own, it is an error, even
    when a directory or a glob gives it too. A file named twice is read once."""
    top, a = str(months / "top.log"), str(months / "2026-10/a.log")
    inputs = inputs_of([top, str(months / "2026-1*"), top, str(months)])
    assert inputs.names == [top, a, str(months / "2026-11/d.log.gz")]
    assert inputs.found == {a, str(months / "2026-11/d.log.gz")}
    assert inputs_of(["-"]).names == ["-"] and not inputs_of(["-"]).found
