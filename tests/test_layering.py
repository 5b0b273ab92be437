"""The dependencies between the packages go one way.

* `coprod_site` is configuration: it names the apps in strings (settings, URL includes)
  and imports none of their code when it is loaded.
* `survey` never imports `initiatives`: the survey data stands on its own, and the
  initiatives build on it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.parametrize("path", _python_files("coprod_site"), ids=lambda p: p.name)
def test_configuration_imports_no_app_code_at_module_level(path):
    apps = [
        name
        for name in _imported_modules(path, module_level_only=True)
        if name.split(".")[0] in {"initiatives", "survey"}
    ]
    assert apps == [], f"{path.relative_to(ROOT)} imports {apps} when loaded"


@pytest.mark.parametrize("path", _python_files("survey"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_survey_never_imports_the_initiatives(path):
    found = [
        name
        for name in _imported_modules(path, module_level_only=False)
        if name.split(".")[0] == "initiatives"
    ]
    assert found == [], f"{path.relative_to(ROOT)} imports {found}"


def test_the_report_cache_is_told_what_to_watch_by_the_apps_that_own_the_tables():
    """Each app declares its own watched models (`reportcache.watch` in its `ready()`); the
    cache itself, and the survey app, name no model of another app."""
    cache_module = (ROOT / "coprod_site" / "reportcache.py").read_text()
    survey_app = (ROOT / "survey" / "apps.py").read_text()
    for text in (cache_module, survey_app):
        assert "initiatives.Initiative" not in text
        assert "WATCHED_MODELS" not in text
    from django.db.models.signals import post_save

    from initiatives.models import Initiative, Organisation
    from survey.models import Wave

    for model in (Initiative, Organisation, Wave):
        assert post_save.has_listeners(model), model
