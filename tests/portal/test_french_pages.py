"""Every /fr/ page, as rendered, against the French catalogue: no text on the page may be
an English message of the catalogue left untranslated. People's own words (titles, notes)
are not in the catalogue and are left as written."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.browser.pages import member_pages, public_pages, seed_demo

pytestmark = pytest.mark.django_db

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{[^}]*\}\}")


def _unquote(line):
    return line[line.index('"') + 1 : line.rindex('"')].encode().decode("unicode_escape")


def english_messages():
    """{English text: French text} for every message whose French differs."""
    entries, current, key = [], {}, None
    for raw in CATALOGUE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            if current:
                entries.append(current)
                current, key = {}, None
            continue
        if line.startswith('"') and key:
            current[key] += _unquote(line)
            continue
        key = line.split(" ", 1)[0]
        current[key] = _unquote(line)
    if current:
        entries.append(current)
    messages = {}
    for entry in entries:
        french = entry.get("msgstr", entry.get("msgstr[0]", ""))
        for english, translated in (
            (entry.get("msgid", ""), french),
            (entry.get("msgid_plural", ""), entry.get("msgstr[1]", "")),
        ):
            # UTF-8 read as Latin-1 by unicode_escape: bring the accents back.
            english = english.encode("latin-1").decode("utf-8")
            translated = translated.encode("latin-1").decode("utf-8")
            if english and translated and english != translated:
                messages[english] = translated
    return messages


def matchers(messages):
    """Exact texts, and patterns for messages with placeholders (whole text only)."""
    exact, patterns = set(), []
    for english in messages:
        literal = PLACEHOLDER.sub("", english)
        if len(literal.strip(" .,:;—-()“”")) < 4:
            continue  # too little of its own to recognise
        if PLACEHOLDER.search(english):
            if len(literal.split()) < 2:
                continue  # "%(n)s total" would match French words as well ("Budget total")
            parts = [re.escape(piece) for piece in PLACEHOLDER.split(english)]
            patterns.append(re.compile("^" + ".+?".join(parts) + "$", re.S))
        else:
            exact.add(" ".join(english.split()))
    return exact, patterns


class Texts(HTMLParser):
    """The text a reader meets: element text, and the names given in attributes."""

    ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")
    VOID = {"input", "img", "br", "hr", "meta", "link", "source", "wbr", "col", "area"}

    def __init__(self):
        super().__init__()
        # Open elements whose text is not for this check: scripts, styles, and what is
        # marked as another language (the language switch says "English" in English).
        self.texts, self.skipped = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        other_language = attrs.get("lang", "fr").split("-")[0] != "fr"
        if tag in ("script", "style") or other_language:
            if tag not in self.VOID:
                self.skipped.append(tag)
            return
        if self.skipped:
            return
        self.texts += [attrs[name] for name in self.ATTRIBUTES if attrs.get(name)]
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            self.texts.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if self.skipped and self.skipped[-1] == tag:
            self.skipped.pop()

    def handle_data(self, data):
        if not self.skipped and data.strip():
            self.texts.append(data)


def english_on(page, exact, patterns):
    parser = Texts()
    parser.feed(page)
    found = []
    for text in parser.texts:
        text = " ".join(text.split())
        if text.rstrip(":") in exact or text in exact or any(p.match(text) for p in patterns):
            found.append(text)
    return found


@pytest.fixture
def world(db, settings):
    seed_demo(settings)


def test_the_checker_sees_english_left_on_a_french_page():
    exact, patterns = matchers(english_messages())
    page = "<p>Submitted for review.</p><p>Stage changed from “Pilot” to “Embedded”. Why</p>"
    assert english_on(page, exact, patterns) == [
        "Submitted for review.",
        "Stage changed from “Pilot” to “Embedded”. Why",
    ]
    assert english_on("<p>Soumise pour examen.</p><p>Safer streets</p>", exact, patterns) == []


def test_every_french_page_is_in_french(client, world):
    exact, patterns = matchers(english_messages())
    member = get_user_model().objects.get(username="member")
    problems = []
    for path in public_pages():
        if path.startswith("/api/"):
            continue
        response = client.get(f"/fr{path}", HTTP_ACCEPT="text/html")
        problems += [
            f"/fr{path}: {text}" for text in english_on(response.content.decode(), exact, patterns)
        ]
    response = client.get("/fr/api/", HTTP_ACCEPT="text/html")
    problems += [
        f"/fr/api/: {text}" for text in english_on(response.content.decode(), exact, patterns)
    ]
    client.force_login(member)
    for path in member_pages(member):
        response = client.get(f"/fr{path}")
        problems += [
            f"/fr{path}: {text}" for text in english_on(response.content.decode(), exact, patterns)
        ]
    assert not problems, "\n".join(sorted(set(problems)))
