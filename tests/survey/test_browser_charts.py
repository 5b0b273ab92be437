"""The indicator charts in a real browser: nothing cut off, no CSP violation, screenshots.

Screenshots go to tests/artifacts/ (git-ignored) for people to look at.
"""

import io
import random
from pathlib import Path

import pytest

from survey.imports import import_survey

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ITEMS = {
    "reasons": ["involvement", "quality", "costs", "satisfaction"],
    "barriers": ["resources", "resistance", "incentives", "evidence"],
    "factors": ["leadership", "engagement", "frameworks", "skills"],
}

# Every text element of every chart must lie inside its SVG's view box.
OVERFLOWING_TEXT = """
() => {
  const bad = [];
  for (const svg of document.querySelectorAll("svg.chart")) {
    const box = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll("text")) {
      const b = text.getBoundingClientRect();
      if (b.left < box.left - 0.5 || b.top < box.top - 0.5
          || b.right > box.right + 0.5 || b.bottom > box.bottom + 0.5) {
        bad.push(text.textContent);
      }
    }
  }
  return bad;
}
"""


@pytest.fixture
def survey_records():
    rng = random.Random(7)
    lines = ["wave,country,respondent,sector,question,item,answer"]
    for n in range(60):
        country = ("FIN", "CAN", "GBR", "NOR", "USA", "FRA")[n % 6]
        for sector in rng.sample(["03", "07", "09", "10"], 2):
            for question, items in ITEMS.items():
                for item in items:
                    tick = "yes" if rng.random() < 0.45 else "no"
                    lines.append(f"OECD-2010,{country},r{n},{sector},{question},{item},{tick}")
    result = import_survey(io.StringIO("\n".join(lines) + "\n"))
    assert result.ok, result.errors


@pytest.fixture
def page(browser, live_server, settings):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    yield page
    context.close()


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("?wave=OECD-2010&question=barriers", "survey-indicators-barriers"),
        ("?wave=OECD-2010&question=factors&by=country", "survey-indicators-by-country"),
        ("?wave=OECD-2010&question=reasons&by=sector&country=FIN", "survey-indicators-by-sector"),
    ],
)
def test_charts_render_whole_without_csp_errors(page, survey_records, query, name):
    ARTIFACTS.mkdir(exist_ok=True)
    response = page.goto("/reports/indicators/" + query)
    assert response.status == 200
    assert page.locator("svg.chart").first.is_visible()
    assert page.evaluate(OVERFLOWING_TEXT) == []
    assert page.console_errors == []
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator("form.report-filters").is_hidden()
    page.screenshot(path=str(ARTIFACTS / f"{name}-print.png"), full_page=True)


def test_french_page_wraps_longer_labels(page, survey_records):
    response = page.goto("/fr/reports/indicators/?wave=OECD-2010&question=factors")
    assert response.status == 200
    assert "Cadres clairs de responsabilité" in page.locator("svg.chart").first.inner_html()
    assert page.evaluate(OVERFLOWING_TEXT) == []
    page.screenshot(path=str(ARTIFACTS / "survey-indicators-fr.png"), full_page=True)
