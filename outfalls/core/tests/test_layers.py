"""Imports run one way, down the floors of DESIGN.md; workflow apps do not import each other.

floor 4: portal, reports · floor 3: survey, remediation, permits, monitoring, supervision, maps · floor 2:
registry · floor 1: core · floor 0: geo. Tests and migrations are left out (a test may drive a workflow of
another app to set up its case)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
FLOOR = {"geo": 0, "core": 1, "registry": 2}
WORKFLOWS = ("survey", "remediation", "permits", "monitoring", "supervision", "maps")
FLOOR.update({name: 3 for name in WORKFLOWS})
FLOOR.update({"portal": 4, "reports": 4})


def app_of(module, current=None, level=0):
    """The app a dotted import names (outfalls.<app>...), or None for anything else."""
    if level:
        return current  # a relative import stays inside the importing app
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "outfalls" and parts[1] in FLOOR else None


def imports(path, app):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, app_of(alias.name)
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, app_of(node.module or "", app, node.level)


def sources():
    for app in FLOOR:
        folder = PACKAGE / app
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder).parts
            if relative[0] in ("tests", "migrations"):
                continue
            yield app, path


@pytest.mark.parametrize("app", [a for a in FLOOR if (PACKAGE / a).is_dir()])
def test_no_app_imports_upward_or_sideways(app):
    wrong = []
    for owner, path in sources():
        if owner != app:
            continue
        for line, target in imports(path, owner):
            if target is None or target == owner:
                continue
            upward = FLOOR[target] >= FLOOR[owner]
            if upward:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert wrong == [], "\n".join(wrong)


def test_the_check_finds_an_upward_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("from outfalls.maps.config import legend\nfrom . import services\n", encoding="utf-8")
    assert [t for _, t in imports(sample, "survey")] == ["maps", "survey"]
