"""The typed modules stay typed: mypy's list (`[tool.mypy]` in pyproject.toml) only grows,
and no override lets one of them off. `make typecheck` runs mypy itself."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What is typed so far; a module may join, none may leave.
TYPED = {
    "core",
    "initiatives/rules.py",
    "initiatives/roles.py",
    "initiatives/services/common.py",
    "initiatives/services/notifications.py",
    "initiatives/services/people.py",
    "initiatives/services/organisations.py",
    "initiatives/services/memberships.py",
    "initiatives/services/review.py",
    "initiatives/services/timeline.py",
    "initiatives/services/stages.py",
    "initiatives/services/parts.py",
    "initiatives/services/initiatives.py",
    "initiatives/imports",
    "survey/imports.py",
    "survey/importrows.py",
    "survey/importstaging.py",
    "survey/mappings.py",
    "survey/jobs.py",
    "initiatives/exports.py",
    "survey/exports.py",
}

#: Settings that would let a module off the strict checks.
RELAXING = {
    "ignore_errors": True,
    "disallow_untyped_defs": False,
    "disallow_incomplete_defs": False,
    "check_untyped_defs": False,
}


def _mypy():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def _modules(path):
    """The dotted names of the modules under a listed file or folder."""
    target = ROOT / path
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    for file in files:
        parts = file.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_typed_list_only_grows():
    listed = set(_mypy()["files"])
    assert sorted(TYPED - listed) == [], "a typed module left the list"
    assert all((ROOT / path).exists() for path in listed)


def test_no_override_lets_a_typed_module_off():
    typed = {module for path in _mypy()["files"] for module in _modules(path)}
    let_off = []
    for override in _mypy().get("overrides", []):
        relaxed = {key for key, value in RELAXING.items() if override.get(key) == value}
        if not relaxed:
            continue
        patterns = override["module"]
        patterns = [patterns] if isinstance(patterns, str) else patterns
        for pattern in patterns:
            # mypy's "a.*" covers "a" and everything under it.
            glob = [pattern[:-2], pattern] if pattern.endswith(".*") else [pattern]
            let_off += [
                (module, sorted(relaxed))
                for module in typed
                if any(fnmatch.fnmatchcase(module, g) for g in glob)
            ]
    assert let_off == []
