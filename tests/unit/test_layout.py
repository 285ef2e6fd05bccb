"""The suite's own layout: tests grouped by kind, helpers in modules that are not tests."""

import ast
from pathlib import Path

from tests.servers import ROOT

TESTS = ROOT / "tests"
KINDS = {"unit", "api", "admin", "live", "browser", "fault", "cluster"}  # design §2
# The phone cases are still defined in tests/unit/test_phones.py (the Genesys branch owns it);
# they belong in a helper module, and this exception goes with them.
NOT_YET_MOVED = {"tests.unit.test_phones"}


def suite_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, with `from tests import test_x` counted as tests.test_x."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def is_test_module(name: str) -> bool:
    """tests.api.test_lookup_api is; tests.servers.test_database_url (a function) is not."""
    return name.split(".")[-1].startswith("test_") and (ROOT / (name.replace(".", "/") + ".py")).is_file()


def test_every_test_module_is_in_a_folder_of_its_kind():
    misplaced = [str(p.relative_to(TESTS)) for p in suite_modules() if p.parent.name not in KINDS]
    assert misplaced == []


def test_no_test_module_imports_another():
    offenders = {}
    for path in suite_modules():
        imported = {name for name in imported_modules(path) if is_test_module(name)}
        if imported - NOT_YET_MOVED:
            offenders[str(path.relative_to(TESTS))] = sorted(imported - NOT_YET_MOVED)
    assert offenders == {}


def test_the_import_scan_sees_both_spellings(tmp_path):
    module = tmp_path / "test_x.py"
    module.write_text("from tests.unit import test_phones as cases\nfrom tests.api.test_lookup_api import URL\n")
    assert {"tests.unit.test_phones", "tests.api.test_lookup_api"} <= imported_modules(module)
    assert is_test_module("tests.api.test_lookup_api") and not is_test_module("tests.servers.test_database_url")
