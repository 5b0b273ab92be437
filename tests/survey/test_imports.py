"""Importing survey files: every rule of issue 3, all or nothing."""

import io

import pytest

from survey.imports import MAX_ERRORS, import_survey
from survey.models import Item, Respondent, Response, Wave

pytestmark = pytest.mark.django_db(transaction=False)

HEADER = "wave,country,respondent,sector,question,item,answer\n"


def csv_file(*rows, header=HEADER, bom=False):
    text = header + "".join(row + "\n" for row in rows)
    data = text.encode("utf-8")
    return io.BytesIO(b"\xef\xbb\xbf" + data if bom else data)


def snapshot():
    return sorted(
        Response.objects.values_list(
            "respondent__wave__code",
            "respondent__country_id",
            "respondent__code",
            "sector_id",
            "item__question__code",
            "item__code",
            "affirmative",
        )
    )


def messages(result):
    return [(e["line"], e["column"], e["value"]) for e in result.errors]


def test_valid_file_creates_respondents_and_responses():
    result = import_survey(
        csv_file(
            "OECD-2010,FIN,fi-1,03,barriers,resources,yes",
            "OECD-2010,FIN,fi-1,03,barriers,resistance,no",
            "OECD-2010,CAN,ca-1,7,barriers,resources,Y",
        )
    )
    assert result.ok, result.errors
    assert (result.rows, result.respondents_created, result.responses_created) == (3, 2, 3)
    assert (result.responses_unchanged, result.responses_replaced) == (0, 0)
    assert snapshot() == [
        ("OECD-2010", "CAN", "ca-1", "07", "barriers", "resources", True),
        ("OECD-2010", "FIN", "fi-1", "03", "barriers", "resistance", False),
        ("OECD-2010", "FIN", "fi-1", "03", "barriers", "resources", True),
    ]


def test_bom_columns_in_any_order_and_case_insensitive_codes():
    result = import_survey(
        csv_file(
            " yes ,barriers,resources,fin,fi-1,OECD-2010,3",
            header="answer,question,item,country,respondent,wave,sector\n",
            bom=True,
        )
    )
    assert result.ok, result.errors
    assert snapshot() == [("OECD-2010", "FIN", "fi-1", "03", "barriers", "resources", True)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True),
        ("YES", True),
        (" y ", True),
        ("True", True),
        ("1", True),
        ("no", False),
        ("N", False),
        ("false", False),
        (" 0", False),
    ],
)
def test_every_answer_spelling(raw, expected):
    result = import_survey(csv_file(f"OECD-2010,FIN,fi-1,03,barriers,resources,{raw}"))
    assert result.ok, result.errors
    assert Response.objects.get().affirmative is expected


def test_a_path_and_a_text_stream_are_sources_too(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_bytes(csv_file("OECD-2010,FIN,fi-1,03,barriers,resources,yes").getvalue())
    assert import_survey(path).responses_created == 1
    text = io.StringIO(HEADER + "OECD-2010,FIN,fi-1,07,barriers,resources,no\n")
    assert import_survey(text).responses_created == 1


@pytest.mark.parametrize(
    ("header", "column", "message"),
    [
        ("wave,country,respondent,sector,question,item", "answer", "Missing column."),
        ("wave,country,respondent,sector,question,item,answer,extra", "extra", "Unknown column"),
        ("wave,country,respondent,sector,question,item,answer,wave", "wave", "Duplicate column."),
        ("Wave,country,respondent,sector,question,item,answer", "Wave", "Unknown column"),
    ],
)
def test_header_problems_are_reported_on_line_1(header, column, message):
    result = import_survey(csv_file(header=header + "\n"))
    assert not result.ok
    assert any(
        e["line"] == 1 and e["column"] == column and e["message"].startswith(message)
        for e in result.errors
    ), result.errors


def test_empty_file_needs_a_header():
    result = import_survey(io.BytesIO(b""))
    assert not result.ok
    assert result.errors[0]["line"] == 1


def test_not_utf8_is_refused():
    result = import_survey(
        io.BytesIO(
            HEADER.encode() + "OECD-2010,FIN,é,03,barriers,resources,yes\n".encode("latin-1")
        )
    )
    assert not result.ok
    assert "UTF-8" in result.errors[0]["message"]


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        ("NOPE-1999,FIN,r,03,barriers,resources,yes", "wave", "NOPE-1999"),
        ("OECD-2010,FI,r,03,barriers,resources,yes", "country", "FI"),
        ("OECD-2010,XXX,r,03,barriers,resources,yes", "country", "XXX"),
        ("OECD-2010,FIN,,03,barriers,resources,yes", "respondent", ""),
        ("OECD-2010,FIN,  ,03,barriers,resources,yes", "respondent", ""),
        ("OECD-2010,FIN,a\x00b,03,barriers,resources,yes", "respondent", "a\x00b"),
        (
            "OECD-2010,FIN," + "x" * 201 + ",03,barriers,resources,yes",
            "respondent",
            "x" * 199 + "…",
        ),
        ("OECD-2010,FIN,r,11,barriers,resources,yes", "sector", "11"),
        ("OECD-2010,FIN,r,0,barriers,resources,yes", "sector", "0"),
        ("OECD-2010,FIN,r,3a,barriers,resources,yes", "sector", "3a"),
        ("OECD-2010,FIN,r,03,obstacles,resources,yes", "question", "obstacles"),
        ("OECD-2010,FIN,r,03,barriers,money,yes", "item", "money"),
        ("OECD-2010,FIN,r,03,barriers,quality,yes", "item", "quality"),
        ("OECD-2010,FIN,r,03,barriers,resources,maybe", "answer", "maybe"),
        ("OECD-2010,FIN,r,03,barriers,resources,", "answer", ""),
        ("OECD-2010,FIN,r,03,barriers,resources", "", "OECD-2010,FIN,r,03,barriers,resources"),
    ],
)
def test_each_bad_value_is_refused_with_line_column_and_value(row, column, value):
    good = "OECD-2010,CAN,ok,07,barriers,resources,yes"
    result = import_survey(csv_file(good, row, good.replace("07", "09")))
    assert not result.ok
    assert messages(result) == [(3, column, value)]
    assert result.error_count == 1
    assert Response.objects.count() == 0
    assert Respondent.objects.count() == 0


def test_unknown_wave_is_created_only_when_asked():
    row = "NEW-2024,FIN,r,03,barriers,resources,yes"
    assert not import_survey(csv_file(row)).ok
    assert not Wave.objects.filter(code="NEW-2024").exists()
    result = import_survey(csv_file(row), create_wave=True)
    assert result.ok
    assert result.waves_created == ["NEW-2024"]
    assert Wave.objects.get(code="NEW-2024").year == 2024


def test_unknown_item_is_created_only_when_asked_but_never_an_unknown_question():
    row = "OECD-2010,FIN,r,03,barriers,time,yes"
    assert not import_survey(csv_file(row)).ok
    result = import_survey(csv_file(row), create_items=True)
    assert result.ok
    assert result.items_created == ["barriers/time"]
    assert Item.objects.filter(question__code="barriers", code="time").exists()
    refused = import_survey(csv_file("OECD-2010,FIN,r,03,hopes,time,yes"), create_items=True)
    assert messages(refused) == [(2, "question", "hopes")]


def test_a_new_wave_or_item_is_not_kept_when_the_file_is_refused():
    result = import_survey(
        csv_file("NEW-2030,FIN,r,03,barriers,time,yes", "NEW-2030,FIN,r,03,barriers,time,bad"),
        create_wave=True,
        create_items=True,
    )
    assert not result.ok
    assert not Wave.objects.filter(code="NEW-2030").exists()
    assert not Item.objects.filter(code="time").exists()


def test_duplicate_respondent_sector_item_in_the_file_is_an_error():
    result = import_survey(
        csv_file(
            "OECD-2010,FIN,r,03,barriers,resources,yes",
            "OECD-2010,FIN,r,07,barriers,resources,yes",
            "OECD-2010,FIN,r,3,barriers,resources,no",
        )
    )
    assert messages(result) == [(4, "item", "resources")]
    assert "line 2" in result.errors[0]["message"]
    assert Response.objects.count() == 0


def test_a_respondent_with_two_countries_in_the_file_is_an_error():
    result = import_survey(
        csv_file(
            "OECD-2010,FIN,r,03,barriers,resources,yes",
            "OECD-2010,CAN,r,07,barriers,resources,yes",
        )
    )
    assert messages(result) == [(3, "country", "CAN")]


def test_a_respondent_already_in_the_wave_with_another_country_is_an_error():
    import_survey(csv_file("OECD-2010,FIN,r,03,barriers,resources,yes"))
    result = import_survey(csv_file("OECD-2010,CAN,r,07,barriers,resources,yes"))
    assert messages(result) == [(2, "country", "CAN")]
    assert "FIN" in result.errors[0]["message"]


def test_reimport_same_answer_is_unchanged_and_different_answer_needs_replace():
    rows = ("OECD-2010,FIN,r,03,barriers,resources,yes", "OECD-2010,FIN,r,03,barriers,evidence,no")
    assert import_survey(csv_file(*rows)).responses_created == 2
    again = import_survey(csv_file(*rows))
    assert again.ok
    assert (again.responses_unchanged, again.responses_created, again.respondents_created) == (
        2,
        0,
        0,
    )
    changed = ("OECD-2010,FIN,r,03,barriers,resources,no", rows[1])
    refused = import_survey(csv_file(*changed))
    assert messages(refused) == [(2, "answer", "no")]
    assert "replace recorded answers" in refused.errors[0]["message"]
    assert Response.objects.get(item__code="resources").affirmative is True
    replaced = import_survey(csv_file(*changed), replace=True)
    assert (replaced.responses_replaced, replaced.responses_unchanged) == (1, 1)
    assert Response.objects.get(item__code="resources").affirmative is False


def test_errors_keep_the_first_fifty_and_count_them_all():
    rows = [f"OECD-2010,FIN,r{n},03,barriers,resources,perhaps" for n in range(120)]
    result = import_survey(csv_file(*rows))
    assert result.error_count == 120
    assert len(result.errors) == MAX_ERRORS
    assert [e["line"] for e in result.errors] == list(range(2, 2 + MAX_ERRORS))


def test_a_refused_file_writes_nothing_even_next_to_valid_rows():
    before = snapshot()
    rows = [f"OECD-2010,FIN,r{n},03,barriers,resources,yes" for n in range(30)]
    result = import_survey(csv_file(*rows, "OECD-2010,FIN,bad,03,barriers,resources,2"))
    assert not result.ok
    assert snapshot() == before
    assert Respondent.objects.count() == 0


def test_a_crash_half_way_leaves_the_database_as_it_was(monkeypatch):
    import survey.imports as imports

    import_survey(csv_file("OECD-2010,FIN,before,03,barriers,resources,yes"))
    before = snapshot()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "write", crash)
    with pytest.raises(RuntimeError):
        import_survey(csv_file("OECD-2010,FIN,after,03,barriers,resources,yes"), create_wave=True)
    assert snapshot() == before


def test_neutralised_cells_from_an_export_are_read_back():
    result = import_survey(
        csv_file(
            "OECD-2010,FIN,'=SUM(A1),03,barriers,resources,yes",
            "OECD-2010,FIN,'plain,03,barriers,resources,yes",
        )
    )
    assert result.ok, result.errors
    assert sorted(Respondent.objects.values_list("code", flat=True)) == ["'plain", "=SUM(A1)"]


def test_progress_is_reported_in_rows():
    seen = []
    rows = [f"OECD-2010,FIN,r{n},03,barriers,resources,yes" for n in range(25)]
    import_survey(csv_file(*rows), progress=seen.append)
    assert sum(seen) == 25


def test_blank_lines_are_skipped_and_line_numbers_stay_true():
    result = import_survey(
        csv_file(
            "OECD-2010,FIN,r,03,barriers,resources,yes", "", "OECD-2010,FIN,r,03,barriers,costs,yes"
        )
    )
    assert messages(result) == [(4, "item", "costs")]


def test_repeated_rows_are_listed_beside_the_other_problems_of_the_file():
    result = import_survey(
        csv_file(
            "OECD-2010,FIN,r,03,barriers,resources,yes",
            "OECD-2010,FIN,r,03,barriers,resources,no",
            "OECD-2010,CAN,r,07,barriers,resources,yes",
            "OECD-2010,FIN,s,03,barriers,resources,maybe",
        )
    )
    assert messages(result) == [
        (3, "item", "resources"),
        (4, "country", "CAN"),
        (5, "answer", "maybe"),
    ]
    assert "line 2" in result.errors[0]["message"]
    assert (result.respondents_created, result.responses_created) == (0, 0)
    assert Respondent.objects.count() == 0


def test_a_repeated_row_of_a_stored_respondent_is_an_error_even_when_stored_alike():
    row = "OECD-2010,FIN,r,03,barriers,resources,yes"
    assert import_survey(csv_file(row)).ok
    result = import_survey(csv_file("OECD-2010,FIN,r,03,barriers,evidence,no", row, row))
    assert messages(result) == [(4, "item", "resources")]
    assert "line 3" in result.errors[0]["message"]
    assert Response.objects.count() == 1


def test_a_file_refused_for_a_repeated_row_reports_nothing_created():
    result = import_survey(
        csv_file(
            "OECD-2010,FIN,new-1,03,barriers,resources,yes",
            "OECD-2010,FIN,new-2,03,barriers,resources,yes",
            "OECD-2010,FIN,new-1,3,barriers,resources,yes",
        )
    )
    assert not result.ok
    assert messages(result) == [(4, "item", "resources")]
    assert result.as_dict()["respondents_created"] == 0
    assert result.responses_created == 0
    assert Respondent.objects.count() == 0


def test_an_error_while_reading_leaves_the_database_usable(monkeypatch):
    import survey.importrows as importrows
    import survey.importstaging as importstaging

    monkeypatch.setattr(importstaging, "BATCH_SIZE", 2)
    monkeypatch.setattr(importrows, "PROGRESS_EVERY", 5)
    rows = [f"OECD-2010,FIN,r{n},03,barriers,resources,yes" for n in range(12)]

    def interrupted(count):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_survey(csv_file(*rows), progress=interrupted)
    assert Response.objects.count() == 0
    assert import_survey(csv_file(*rows)).responses_created == 12


def test_new_waves_and_items_are_created_between_batches(monkeypatch):
    import survey.importstaging as importstaging

    monkeypatch.setattr(importstaging, "BATCH_SIZE", 2)
    rows = [f"OECD-2010,FIN,r{n},03,barriers,resources,yes" for n in range(5)]
    rows += [f"NEW-2030,FIN,r{n},03,barriers,time,no" for n in range(5)]
    result = import_survey(csv_file(*rows), create_wave=True, create_items=True)
    assert result.ok, result.errors
    assert (result.waves_created, result.items_created) == (["NEW-2030"], ["barriers/time"])
    assert Response.objects.count() == 10


def test_a_quote_never_closed_is_refused_on_its_line_and_nothing_is_written():
    result = import_survey(
        csv_file(
            "OECD-2010,FIN,fi-1,03,barriers,resources,yes",
            'OECD-2010,FIN,"fi-2,03,barriers,resources,yes',
            "OECD-2010,FIN,fi-3,03,barriers,resources,yes",
            'OECD-2010,FIN,fi-4",03,barriers,resources,yes',
            "OECD-2010,FIN,fi-5,03,barriers,resources,yes",
        )
    )
    assert not result.ok
    assert [(e["line"], "quote" in e["message"]) for e in result.errors] == [(3, True)]
    assert Respondent.objects.count() == 0


def test_a_byte_that_is_not_utf8_is_reported_on_its_own_line(monkeypatch):
    import core.tables as tables

    monkeypatch.setattr(tables, "CHUNK_BYTES", 8192)
    rows = [f"OECD-2010,FIN,r{n},03,barriers,resources,yes" for n in range(2, 3000)]
    data = csv_file(*rows).getvalue().replace(b"r2601,", "rBj\xf6rk,".encode("latin-1"))
    result = import_survey(io.BytesIO(data))
    assert not result.ok
    assert [e["line"] for e in result.errors] == [2601]
    assert "UTF-8" in result.errors[0]["message"]
    assert Respondent.objects.count() == 0


def xlsx_file(*rows):
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_an_xlsx_file_in_the_long_format_imports_like_its_csv():
    result = import_survey(
        xlsx_file(
            HEADER.strip().split(","),
            ["OECD-2010", "FIN", "fi-1", 3, "barriers", "resources", 1],
            ["OECD-2010", "CAN", "ca-1", "07", "barriers", "resources", "no"],
        )
    )
    assert result.ok, result.errors
    assert snapshot() == [
        ("OECD-2010", "CAN", "ca-1", "07", "barriers", "resources", False),
        ("OECD-2010", "FIN", "fi-1", "03", "barriers", "resources", True),
    ]


def test_xlsx_errors_name_the_cell():
    result = import_survey(
        xlsx_file(
            HEADER.strip().split(","),
            ["OECD-2010", "FIN", "fi-1", "03", "barriers", "resources", "yes"],
            ["OECD-2010", "XXX", "fi-2", "03", "barriers", "resources", "maybe"],
            ["OECD-2010", "FIN", "fi-1", "03", "barriers", "resources", "yes"],
        )
    )
    assert not result.ok
    assert sorted((e["cell"], e["column"]) for e in result.errors) == [
        ("B3", "country"),
        ("F4", "item"),
        ("G3", "answer"),
    ]
    assert Respondent.objects.count() == 0


def test_csv_errors_have_no_cell():
    result = import_survey(csv_file("OECD-2010,XXX,fi-1,03,barriers,resources,yes"))
    assert [(e["line"], e["column"], e["cell"]) for e in result.errors] == [(2, "country", "")]
