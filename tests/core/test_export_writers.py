"""One CSV writer per export: the rows read by the ORM, streamed, written by Python.

On PostgreSQL the rows stream from the server (`core.streaming`) and the initiatives'
multi-value cells are aggregated in the same query; elsewhere (and on PostgreSQL when asked)
the rows come from `QuerySet.iterator()` and the cells from one query per relation per
batch. Both must write the same bytes, in the same order."""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone, translation

from core import streaming
from core.csvfiles import csv_lines
from initiatives import exports as initiative_exports
from initiatives.models import (
    AccountabilityFramework,
    BudgetFramework,
    EvidenceLevel,
    Initiative,
    ReviewStatus,
)
from survey import exports as survey_exports
from survey.imports import COLUMNS
from survey.models import Response, Wave
from tests.factories import (
    OrganisationFactory,
    WaveFactory,
    add_participation,
    answer,
    make_initiative,
)
from tests.portal.helpers import item_pk

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the rows stream from PostgreSQL's server"
)

# Texts that must come through the database and the writer unchanged but for the formula
# guard: formula starters, the quote, the delimiter, line breaks inside a cell, the empty
# text, backslashes, non-ASCII text.
TRICKY = [
    "=1+2",
    "+33 1 23",
    "-minus",
    "@at",
    "\ttab",
    "\rcarriage",
    "\nline",
    'say "hi"',
    '"',
    "a, b",
    ",",
    "two\nlines",
    "crlf\r\ninside",
    "ends with a break\n",
    "",
    "=",
    "\\.",
    "\\",
    "\\N",
    " padded ",
    "'quoted",
    "naïve Ærø 中文 🙂",
    "NULL",
    None,
]


@contextmanager
def iterated(monkeypatch):
    """Rows read as on SQLite, whatever the database: `QuerySet.iterator()`, and the
    initiatives' multi-value cells fetched per batch."""
    with monkeypatch.context() as patch:
        for module in (survey_exports, initiative_exports):
            patch.setattr(module, "stream_rows", lambda queryset: queryset.iterator())
        patch.setattr(initiative_exports, "_aggregates_cells", lambda: False)
        yield


@on_postgresql
def test_streamed_rows_are_the_rows_the_orm_reads():
    wave = Wave.objects.get(code="OECD-2010")
    for number, code in enumerate(text for text in TRICKY if text and text.strip() == text):
        answer(wave, "FIN", code, "03", "barriers", {"resources": True, "evidence": number % 2})
    queryset = Response.objects.order_by("pk").values_list(
        "respondent__code", "affirmative", "respondent__wave__year", "sector_id"
    )
    streamed = list(streaming.stream_rows(queryset))
    assert streamed == list(queryset.iterator())
    assert len(streamed) > 20
    assert list(streaming.stream_rows(queryset.none())) == []


@on_postgresql
def test_a_reader_that_leaves_early_frees_the_connection():
    _survey_records()
    rows = streaming.stream_rows(survey_exports._records(None).values_list("pk"))
    assert next(rows)
    rows.close()  # a client that leaves: the query is cancelled, the connection lives on
    assert Wave.objects.filter(code="OECD-2010").exists()
    assert len(list(streaming.stream_rows(Response.objects.values_list("pk")))) > 1


# The survey records -------------------------------------------------------------------


def _python_survey(wave=None):
    """The file as written from rows read the SQLite way."""
    records = survey_exports._records(wave).values_list(*survey_exports._FIELDS).iterator()
    return "".join(csv_lines(COLUMNS, records)).encode("utf-8")


def _survey_records():
    wave = Wave.objects.get(code="OECD-2010")
    other = WaveFactory(code="OTHER-2020")
    for number, code in enumerate(text for text in TRICKY if text and text.strip() == text):
        country = ("FIN", "CAN", "FRA")[number % 3]
        answer(wave, country, code, "03", "barriers", {"resources": True, "evidence": False})
        answer(other, "GBR", code, "07", "reasons", {"costs": number % 2 == 0})
    return wave, other


def test_the_survey_download_is_the_same_bytes_on_every_database(staff_client):
    _wave, other = _survey_records()
    response = staff_client.get("/admin/survey/response/export/")
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body == _python_survey()
    assert body.count(b"\r\n") > 40
    assert b"OECD-2010,FIN,'=1+2,03," in body  # a formula starter, guarded
    one_wave = b"".join(
        staff_client.get(f"/admin/survey/response/export/?wave={other.code}").streaming_content
    )
    assert one_wave == _python_survey(wave=other)
    assert b"OECD-2010" not in one_wave


def test_the_export_command_writes_what_the_download_writes():
    _survey_records()
    text = "".join(survey_exports.export_lines())
    assert text.encode("utf-8") == _python_survey()


def test_the_survey_records_stream_and_a_reader_may_leave_early():
    _survey_records()
    response = survey_exports.export_response()
    assert response.streaming
    assert next(iter(response.streaming_content)).startswith(b"wave,country,respondent,")
    lines = survey_exports.export_lines()
    assert next(lines).startswith("wave,country,respondent,")
    assert next(lines).startswith("OECD-2010,")
    lines.close()  # a reader that leaves: the query is cancelled, the connection lives on
    assert Wave.objects.filter(code="OECD-2010").exists()


# The initiatives ----------------------------------------------------------------------


def _initiatives(staff):
    moments = [
        datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.UTC),
        datetime.datetime(2024, 3, 1, 9, 30, 0, 120, tzinfo=datetime.UTC),
    ]
    made = []
    texts = [text for text in TRICKY if text is not None]
    for number, text in enumerate(texts):
        organisation = OrganisationFactory(name=f"{text} group {number}", verified=number % 3 == 0)
        initiative = make_initiative(
            by=staff,
            organisation=organisation if number % 4 else None,
            title=text or "untitled",
            summary=text,
            lead_public_body=text,
            country_id=("FIN", "CAN")[number % 2],
            review_status=ReviewStatus.PUBLISHED,
            stage=("pilot", "embedded")[number % 2],
            participants=number if number % 3 else None,
            start_date=datetime.date(2024, 1, number % 28 + 1) if number % 2 else None,
        )
        Initiative.objects.filter(pk=initiative.pk).update(
            published_at=moments[number % 2] if number % 3 else None,
            updated_at=timezone.now(),
        )
        if number % 2:
            # Entered out of the matrix's order, which the cell must restore.
            add_participation(initiative, "deliver", "professional", "collective")
            add_participation(initiative, "design", "citizen", "group")
            add_participation(initiative, "design", "cso", "individual")
            initiative.objectives.add(
                item_pk("reasons", "quality"), item_pk("reasons", "involvement")
            )
            initiative.factors.add(item_pk("factors", "frameworks"))
        if number % 3 == 0:
            AccountabilityFramework.objects.create(
                initiative=initiative, accountable_body=text, roles_written=number % 2 == 0
            )
        if number % 3 == 1:
            BudgetFramework.objects.create(
                initiative=initiative,
                amount=Decimal("1234.50"),
                currency="EUR",
                resources_transferred=True,
                citizen_hours=Decimal("12.5"),
                estimated_costs=Decimal("-3.00"),
                evidence_level=EvidenceLevel.MONITORED,
            )
        made.append(initiative)
    return made


def _both_ways(queryset, monkeypatch):
    """The file as this database writes it, and as written from rows read the SQLite way."""
    this = b"".join(initiative_exports.initiatives_csv(queryset).streaming_content)
    with iterated(monkeypatch):
        batched = b"".join(initiative_exports.initiatives_csv(queryset).streaming_content)
    return this, batched


def test_the_initiatives_export_is_the_same_bytes_on_every_database(staff, monkeypatch):
    made = _initiatives(staff)
    this, batched = _both_ways(Initiative.objects.visible_to(staff), monkeypatch)
    assert this == batched
    assert this.count(b"design:citizen|design:cso|deliver:professional") == len(made) // 2


def test_an_empty_initiatives_export_is_its_header(staff, monkeypatch):
    _initiatives(staff)
    this, batched = _both_ways(Initiative.objects.none(), monkeypatch)
    assert this == batched
    assert this.startswith(b"reference,title,")
    assert this.count(b"\r\n") == 1


def test_the_initiatives_export_is_the_same_in_french(staff, monkeypatch):
    _initiatives(staff)
    with translation.override("fr"):
        this, batched = _both_ways(Initiative.objects.visible_to(staff), monkeypatch)
    assert this == batched


@pytest.mark.parametrize(
    "query",
    [
        {"country": "CAN"},
        {"stage": "embedded", "verified": "true"},
        {"partner_type": "cso"},
        {"objective": "quality"},
        {"q": "group 1"},
        {"country": "FIN", "ordering": "title"},
    ],
)
def test_the_export_keeps_the_lists_filters_and_sort(client, staff, member, query, monkeypatch):
    _initiatives(staff)
    for user in (staff, member):
        client.force_login(user)
        this = b"".join(client.get("/initiatives/export.csv", query).streaming_content)
        with iterated(monkeypatch):
            response = client.get("/initiatives/export.csv", query)
            batched = b"".join(response.streaming_content)
        assert this == batched
        rows = this.count(b"\r\nCOP-")
        assert 0 < rows < Initiative.objects.count()


def test_the_initiatives_download_streams(client, staff):
    _initiatives(staff)
    client.force_login(staff)
    response = client.get("/initiatives/export.csv", {"country": "CAN"})
    assert response.streaming
    first = next(iter(response.streaming_content))
    assert first.startswith(b"reference,title,summary,")
    response.close()
