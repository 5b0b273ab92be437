"""The dependencies between the packages go one way: coprod_site → initiatives → survey → core.

* `core` holds what both domain apps share (API plumbing, CSV writing, charts, the report
  cache, rounding) and knows neither of them.
* `survey` never imports `initiatives`: the survey data stands on its own, and the
  initiatives build on it.
* `initiatives` never imports the site's configuration.
* `coprod_site` is configuration: it names the apps in strings (settings, URL includes)
  and imports none of their code when it is loaded.

An import inside a function counts too: a lazy import is still a dependency.
docs/ARCHITECTURE.md draws the same layers.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("coprod_site", "initiatives", "survey", "core")


def _imported_modules(path, *, module_level_only):
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _python_files(package):
    return sorted(path for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts)


def _layered_files():
    for index, package in enumerate(LAYERS):
        higher = set(LAYERS[:index])
        for path in _python_files(package):
            yield pytest.param(path, higher, id=str(path.relative_to(ROOT)))


@pytest.mark.parametrize(("path", "higher"), _layered_files())
def test_no_layer_imports_a_higher_one(path, higher):
    found = sorted(
        {
            name
            for name in _imported_modules(path, module_level_only=False)
            if name.split(".")[0] in higher
        }
    )
    assert found == [], f"{path.relative_to(ROOT)} imports {found}, from a higher layer"


@pytest.mark.parametrize("path", _python_files("coprod_site"), ids=lambda p: p.name)
def test_configuration_imports_no_app_code_at_module_level(path):
    apps = [
        name
        for name in _imported_modules(path, module_level_only=True)
        if name.split(".")[0] in {"initiatives", "survey"}
    ]
    assert apps == [], f"{path.relative_to(ROOT)} imports {apps} when loaded"


def test_the_rule_is_checked_where_it_matters():
    """The scan sees real imports: a survey module that imported the initiatives would fail."""
    sample = ROOT / "survey" / "reports.py"
    modules = set(_imported_modules(sample, module_level_only=False))
    assert "core.numbers" in modules
    assert all(_python_files(package) for package in LAYERS)


def test_the_report_cache_is_told_what_to_watch_by_the_apps_that_own_the_tables():
    """Each app declares its own watched models (`reportcache.watch` in its `ready()`); the
    cache itself, and the survey app, name no model of another app."""
    cache_module = (ROOT / "core" / "reportcache.py").read_text()
    survey_app = (ROOT / "survey" / "apps.py").read_text()
    for text in (cache_module, survey_app):
        assert "initiatives.Initiative" not in text
        assert "WATCHED_MODELS" not in text
    from django.db.models.signals import post_save

    from initiatives.models import Initiative, Organisation
    from survey.models import Wave

    for model in (Initiative, Organisation, Wave):
        assert post_save.has_listeners(model), model
