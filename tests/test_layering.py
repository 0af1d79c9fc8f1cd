"""Dependencies point one way: royalty -> reports, crawler -> ledger. The library stays importable alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN_IN_LEDGER = ("typer", "rich", "scrapy", "royalty", "reports", "crawler", "matplotlib")


def modules_after_import(package: str) -> set[str]:
    code = (
        f"import sys, importlib, pkgutil; import {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        "import json; print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("forbidden", FORBIDDEN_IN_LEDGER)
def test_ledger_never_imports_the_shell_or_presentation(forbidden: str) -> None:
    loaded = modules_after_import("ledger")
    assert not any(m == forbidden or m.startswith(forbidden + ".") for m in loaded)


def test_reports_do_not_import_the_cli() -> None:
    loaded = modules_after_import("reports")
    assert not any(m == "royalty" or m.startswith(("royalty.", "typer")) for m in loaded)
