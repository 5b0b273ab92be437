"""French throughout: every message translated, the catalogue up to date with the code,
and the pages, vocabulary, form errors and e-mails in French under /fr/."""

import ast
import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from initiatives.models import ReviewStatus
from tests.factories import make_initiative

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def parse_po(path):
    """{(context, msgid, msgid_plural): (fuzzy, [msgstr, ...])} for the live entries."""
    entries, current, field, flags = {}, None, None, set()

    def finish():
        if current is not None and current.get("msgid"):
            key = (current.get("msgctxt"), current["msgid"], current.get("msgid_plural"))
            strings = [v for k, v in sorted(current.items()) if k.startswith("msgstr")]
            entries[key] = ("fuzzy" in current["flags"], strings)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~") or not line:
            continue
        if line.startswith("#,"):
            flags = {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            current[field] += ast.literal_eval(line)
            continue
        keyword, _space, value = line.partition(" ")
        if (
            keyword in ("msgid", "msgctxt")
            and (keyword == "msgctxt" or current is None or "msgid" in current)
            and not (keyword == "msgid" and current is not None and "msgid" not in current)
        ):
            finish()
            current = {"flags": flags}
            flags = set()
        field = keyword
        current[field] = ast.literal_eval(value)
    finish()
    return entries


def test_every_french_message_is_translated_and_none_is_fuzzy():
    entries = parse_po(PO)
    assert len(entries) > 100
    untranslated = [key[1] for key, (_f, strings) in entries.items() if not all(strings)]
    fuzzy = [key[1] for key, (is_fuzzy, _s) in entries.items() if is_fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_msgfmt_accepts_the_catalogue_with_no_untranslated_or_fuzzy_message():
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("gettext's msgfmt is not installed")
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own file
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    statistics = result.stderr.strip().splitlines()[-1]
    assert "fuzzy" not in statistics, statistics
    assert "untranslated" not in statistics, statistics


def test_the_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for (context, msgid, plural), (_fuzzy, strings) in parse_po(PO).items():
        if context:
            continue
        if plural:
            assert compiled.ngettext(msgid, plural, 1) == strings[0], msgid
        else:
            assert compiled.gettext(msgid) == strings[0], msgid


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_the_catalogue_is_up_to_date_with_the_code(tmp_path):
    """Run makemessages on a copy of the project; it must find no message we lack."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "migrations")
    for name in ("coprod_site", "core", "initiatives", "survey", "templates", "locale"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    environment = {"PATH": "/usr/bin:/bin", "DEBUG": "true", "SECRET_KEY": "x"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=copy,
        env={**environment, "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    fresh = set(parse_po(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    committed = set(parse_po(PO))
    assert sorted(key[1] for key in fresh - committed) == [], "run `make messages` and translate"


def test_french_pages_show_french_labels_and_vocabulary(client, db):
    make_initiative(review_status=ReviewStatus.PUBLISHED)
    page = client.get("/fr/initiatives/").content.decode()
    assert '<html lang="fr">' in page
    assert "Filtrer" in page
    assert "Ordre et sécurité publics" in page  # sector label, translated data
    assert "Prévue" in page  # stage label
    assert "Finlande" in page


def test_french_form_errors_and_messages(client, member, organisation):
    client.force_login(member)
    response = client.post("/fr/initiatives/new/", {"organisation": organisation.pk})
    page = response.content.decode()
    assert "Veuillez corriger ce qui suit" in page
    assert "Ce champ est obligatoire." in page


def test_notifications_are_sent_in_the_language_of_the_page(
    client, member, organisation, staff, django_capture_on_commit_callbacks
):
    from tests.portal.helpers import initiative_form_data

    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/fr/initiatives/new/", initiative_form_data(organisation, submit="1"))
    assert mail.outbox[0].subject.startswith("Nouvelle soumission")


def test_the_language_switcher_links_to_the_same_page_in_the_other_language(client, db):
    page = client.get("/initiatives/?stage=pilot").content.decode()
    assert 'href="/fr/initiatives/?stage=pilot" hreflang="fr"' in page
    french = client.get("/fr/initiatives/?stage=pilot").content.decode()
    assert 'href="/initiatives/?stage=pilot" hreflang="en"' in french
    # A link, not a form: no per-visitor token, so the page is the same for everyone.
    assert "csrfmiddlewaretoken" not in page
