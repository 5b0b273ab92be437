"""On PostgreSQL the big exports let the server write the CSV (COPY ... TO STDOUT WITH CSV):
the same bytes as the CSV Python writes, streamed, with the same rows in the same order."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.csvfiles import copy_chunks, csv_lines, spelled, sql_text, sql_yes_no
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
from survey.models import Wave
from tests.factories import (
    OrganisationFactory,
    WaveFactory,
    add_participation,
    answer,
    make_initiative,
)
from tests.portal.helpers import item_pk

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's"),
]

# Every way a cell can differ between PostgreSQL's CSV and Python's: formula starters, the
# quote, the delimiter, line breaks inside a cell, the empty text (PostgreSQL quotes it
# unless told otherwise), COPY's end-of-data mark, backslashes, non-ASCII text.
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


def _server(rows):
    """The CSV PostgreSQL writes for (text, boolean, number) rows."""
    sql = (
        "SELECT t.text AS c0, t.flag AS c1, t.amount AS c2 "
        "FROM unnest(%s::text[], %s::boolean[], %s::numeric[]) WITH ORDINALITY "
        "AS t(text, flag, amount, n) ORDER BY t.n"
    )
    texts, flags, amounts = (list(column) for column in zip(*rows, strict=True))
    chunks = copy_chunks(
        ["text", "flag", "amount"],
        spelled(sql, [sql_text, sql_yes_no, None]),
        [texts, flags, amounts],
    )
    return b"".join(chunks)


def _python(rows):
    return "".join(csv_lines(["text", "flag", "amount"], rows)).encode("utf-8")


def test_the_server_writes_the_bytes_python_writes_for_every_tricky_cell():
    flags = [True, False, None]
    amounts = [Decimal("-2.50"), None, Decimal("1000.00"), Decimal("0.0")]
    rows = [(text, flags[number % 3], amounts[number % 4]) for number, text in enumerate(TRICKY)]
    assert _server(rows) == _python(rows)


_characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(_characters, max_size=30), st.sampled_from(TRICKY)),
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.decimals(places=2, allow_nan=False, allow_infinity=False)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_server_writes_the_bytes_python_writes_for_any_text(rows):
    assert _server(rows) == _python(rows)


def test_rows_leave_in_chunks_that_end_where_a_line_ends():
    rows = [(f"row {number}\nbroken", True, None) for number in range(5)]
    sql = (
        "SELECT t.text AS c0, t.flag AS c1, t.amount AS c2 "
        "FROM unnest(%s::text[], %s::boolean[], %s::numeric[]) WITH ORDINALITY "
        "AS t(text, flag, amount, n) ORDER BY t.n"
    )
    params = [[row[0] for row in rows], [True] * 5, [None] * 5]
    chunks = list(
        copy_chunks(
            ["text", "flag", "amount"], spelled(sql, [sql_text, sql_yes_no, None]), params, size=1
        )
    )
    # The header travels with the first row; then one row per chunk at this size.
    assert len(chunks) == 5
    assert chunks[0] == b'text,flag,amount\r\n"row 0\nbroken",yes,\r\n'
    assert all(chunk.endswith(b"\r\n") for chunk in chunks)
    assert b"".join(chunks) == _python(rows)


def test_a_single_column_is_refused():
    with pytest.raises(ValueError, match="two columns"):
        next(copy_chunks(["only"], "SELECT 'x' AS c0"))


# The survey records -------------------------------------------------------------------


def _python_survey(wave=None):
    return "".join(csv_lines(COLUMNS, survey_exports.export_rows(wave=wave))).encode("utf-8")


def _survey_records():
    wave = Wave.objects.get(code="OECD-2010")
    other = WaveFactory(code="OTHER-2020")
    for number, code in enumerate(text for text in TRICKY if text and text.strip() == text):
        country = ("FIN", "CAN", "FRA")[number % 3]
        answer(wave, country, code, "03", "barriers", {"resources": True, "evidence": False})
        answer(other, "GBR", code, "07", "reasons", {"costs": number % 2 == 0})
    return wave, other


def test_the_survey_download_is_written_by_the_server_byte_for_byte(staff_client):
    _wave, other = _survey_records()
    response = staff_client.get("/admin/survey/response/export/")
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body == _python_survey()
    assert body.count(b"\r\n") > 40
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
    chunks = copy_chunks(COLUMNS, *survey_exports.export_sql(), size=1)
    assert next(chunks).startswith(b"wave,country,respondent,")
    chunks.close()  # a client that leaves: the COPY is cancelled, the connection lives on
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
    server = b"".join(initiative_exports.initiatives_csv(queryset).streaming_content)
    with monkeypatch.context() as patch:
        patch.setattr(initiative_exports, "_server_writes", lambda: False)
        python = b"".join(initiative_exports.initiatives_csv(queryset).streaming_content)
    return server, python


def test_the_initiatives_export_is_written_by_the_server_byte_for_byte(staff, monkeypatch):
    made = _initiatives(staff)
    server, python = _both_ways(Initiative.objects.visible_to(staff), monkeypatch)
    assert server == python
    assert server.count(b"design:citizen|design:cso|deliver:professional") == len(made) // 2


def test_an_empty_initiatives_export_is_its_header(staff, monkeypatch):
    _initiatives(staff)
    server, python = _both_ways(Initiative.objects.none(), monkeypatch)
    assert server == python
    assert server.startswith(b"reference,title,")
    assert server.count(b"\r\n") == 1


def test_the_initiatives_export_is_the_same_in_french(staff, monkeypatch):
    _initiatives(staff)
    with translation.override("fr"):
        server, python = _both_ways(Initiative.objects.visible_to(staff), monkeypatch)
    assert server == python


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
def test_the_server_written_export_keeps_the_lists_filters(
    client, staff, member, query, monkeypatch
):
    _initiatives(staff)
    for user in (staff, member):
        client.force_login(user)
        server = b"".join(client.get("/initiatives/export.csv", query).streaming_content)
        with monkeypatch.context() as patch:
            patch.setattr(initiative_exports, "_server_writes", lambda: False)
            response = client.get("/initiatives/export.csv", query)
            python = b"".join(response.streaming_content)
        assert server == python
        rows = server.count(b"\r\nCOP-")
        assert 0 < rows < Initiative.objects.count()


def test_the_initiatives_download_streams(client, staff):
    _initiatives(staff)
    client.force_login(staff)
    response = client.get("/initiatives/export.csv", {"country": "CAN"})
    assert response.streaming
    first = next(iter(response.streaming_content))
    assert first.startswith(b"reference,title,summary,")
    response.close()
