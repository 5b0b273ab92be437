"""Wide survey files through column mappings: presets, the answered rules, the same
percentages as the long format, and every import rule kept."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from survey.exports import export_lines
from survey.imports import import_survey
from survey.mappings import propose, recognise
from survey.models import ColumnMapping, Item, Question, Response, Wave
from survey.reports import indicator_rows

pytestmark = pytest.mark.django_db


def wide(*rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return io.BytesIO(buffer.getvalue().encode())


def long_file(*rows):
    return wide(("wave", "country", "respondent", "sector", "question", "item", "answer"), *rows)


def stored(wave="OECD-2010"):
    return sorted(
        Response.objects.filter(respondent__wave__code=wave).values_list(
            "respondent__code", "respondent__country_id", "sector_id", "item__code", "affirmative"
        )
    )


def save(**fields):
    mapping = ColumnMapping(name=fields.pop("name", "m"), **fields)
    mapping.full_clean()
    mapping.save()
    return mapping


def test_limesurvey_header_is_recognised_and_its_proposal_reads_the_file():
    header = ["id", "submitdate", "country", "sector", "barriers[resources]", "barriers[SQ002]"]
    assert recognise(header) == "limesurvey"
    mapping = propose(header)
    assert (mapping.respondent_column, mapping.country_column, mapping.sector_column) == (
        "id",
        "country",
        "sector",
    )
    assert mapping.columns.splitlines() == [
        "barriers[resources] = barriers/resources",
        "barriers[SQ002] = barriers/resistance",  # the second item, by position
    ]
    result = import_survey(
        wide(header, ["7", "2024-01-01", "FIN", "03", "Y", ""], ["8", "", "CAN", "07", "", ""]),
        mapping="limesurvey",
        wave="OECD-2010",
    )
    assert result.ok, result.errors
    # Row 8 ticked nothing: under the LimeSurvey default it did not answer the question.
    assert stored() == [
        ("7", "FIN", "03", "resistance", False),
        ("7", "FIN", "03", "resources", True),
    ]


def test_limesurvey_sector_in_the_column_names():
    header = ["id", "country", "barriers[resources_03]", "barriers[resources][7]"]
    mapping = propose(header)
    assert mapping.sector_column == ""
    assert mapping.columns.splitlines() == [
        "barriers[resources_03] = barriers/resources @ 03",
        "barriers[resources][7] = barriers/resources @ 07",
    ]
    result = import_survey(wide(header, ["1", "FIN", "Y", "Y"]), wave="OECD-2010")
    assert result.ok, result.errors
    assert stored() == [
        ("1", "FIN", "03", "resources", True),
        ("1", "FIN", "07", "resources", True),
    ]


def test_kobo_header_is_recognised_and_an_explicit_zero_is_an_answer():
    header = [
        "start",
        "_uuid",
        "country",
        "sector",
        "grp/barriers/resources",
        "grp/barriers/evidence",
    ]
    assert recognise(header) == "kobo"
    mapping = propose(header)
    assert mapping.answered == ColumnMapping.FILLED
    assert mapping.respondent_column == "_uuid"
    result = import_survey(
        wide(
            header,
            ["x", "u1", "FIN", "03", "1", "0"],
            ["x", "u2", "FIN", "03", "0", "0"],  # shown, nothing ticked: answered "no"
            ["x", "u3", "FIN", "03", "", ""],  # not shown: not answered
        ),
        mapping="kobo",
        wave="OECD-2010",
    )
    assert result.ok, result.errors
    assert stored() == [
        ("u1", "FIN", "03", "evidence", False),
        ("u1", "FIN", "03", "resources", True),
        ("u2", "FIN", "03", "evidence", False),
        ("u2", "FIN", "03", "resources", False),
    ]


def test_qualtrics_header_rows_are_skipped_and_loops_give_the_sector():
    header = ["StartDate", "ResponseId", "country", "3_barriers_1", "3_barriers_2", "7_barriers_1"]
    assert recognise(header) == "qualtrics"
    rows = [
        ["Start Date", "Response ID", "Country", "Resources", "Resistance", "Resources"],
        ['{"ImportId":"startDate"}', '{"ImportId":"_recordId"}', "{}", "{}", "{}", "{}"],
        ["2024", "R_1", "FIN", "1", "", ""],
    ]
    mapping = propose(header, rows)
    assert mapping.skip_rows == 2
    assert mapping.columns.splitlines() == [
        "3_barriers_1 = barriers/resources @ 03",
        "3_barriers_2 = barriers/resistance @ 03",
        "7_barriers_1 = barriers/resources @ 07",
    ]
    result = import_survey(wide(header, *rows), mapping="qualtrics", wave="OECD-2010")
    assert result.ok, result.errors
    assert result.rows == 1
    # Sector 07 had nothing ticked: not answered there.
    assert stored() == [
        ("R_1", "FIN", "03", "resistance", False),
        ("R_1", "FIN", "03", "resources", True),
    ]


def test_fixed_columns_and_coprod_codes_need_no_mapping():
    header = ["respondent", "country", "sector", "barriers/resources", "barriers/evidence"]
    result = import_survey(
        wide(header, ["a", "FIN", "3", "yes", ""], ["b", "CAN", "07", "", "x"]), wave="OECD-2010"
    )
    assert result.ok, result.errors
    assert stored() == [
        ("a", "FIN", "03", "evidence", False),
        ("a", "FIN", "03", "resources", True),
        ("b", "CAN", "07", "evidence", True),
        ("b", "CAN", "07", "resources", False),
    ]


HEADER = ["respondent", "country", "sector", "shown", "barriers/resources", "barriers/evidence"]
ROWS = [
    ["a", "FIN", "03", "1", "1", ""],
    ["b", "FIN", "03", "1", "", ""],  # shown, nothing ticked
    ["c", "FIN", "03", "", "", ""],  # not shown
]


@pytest.mark.parametrize(
    ("answered", "respondents"),
    [
        (ColumnMapping.TICKED, ["a"]),
        (ColumnMapping.SHOWN, ["a", "b"]),
        (ColumnMapping.ALL, ["a", "b", "c"]),
        (ColumnMapping.FILLED, ["a"]),
    ],
)
def test_the_answered_rule_decides_who_is_in_the_denominator(answered, respondents):
    save(
        columns="barriers/resources = barriers/resources\nbarriers/evidence = barriers/evidence",
        answered=answered,
        shown_columns="shown = barriers",
    )
    result = import_survey(wide(HEADER, *ROWS), mapping="m", wave="OECD-2010")
    assert result.ok, result.errors
    assert sorted({code for code, *_ in stored()}) == respondents
    # Unticked boxes of an answered question are stored as "no", never skipped.
    assert len(stored()) == 2 * len(respondents)
    (row,) = [
        r
        for r in indicator_rows(
            wave=Wave.objects.get(code="OECD-2010"), question=Question.objects.get(code="barriers")
        )
        if r.item.code == "resources"
    ]
    assert (row.affirmative, row.responses) == (1, len(respondents))


def test_a_tick_where_the_question_was_not_shown_is_an_error():
    save(
        columns="barriers/resources = barriers/resources",
        answered=ColumnMapping.SHOWN,
        shown_columns="shown = barriers",
    )
    result = import_survey(
        wide(
            ["respondent", "country", "sector", "shown", "barriers/resources"],
            ["a", "FIN", "03", "0", "1"],
        ),
        mapping="m",
        wave="OECD-2010",
    )
    assert not result.ok
    assert [(e["line"], e["column"]) for e in result.errors] == [(2, "shown")]
    assert Response.objects.count() == 0


def test_a_wide_file_gives_the_same_percentages_as_the_long_file_of_the_same_answers():
    answers = {  # (respondent, country, sector) -> ticked items; None: not answered
        ("r1", "FIN", "03"): {"resources", "evidence"},
        ("r1", "FIN", "07"): {"resistance"},
        ("r2", "FIN", "03"): set(),
        ("r3", "CAN", "03"): {"resources"},
        ("r4", "CAN", "07"): {"incentives", "resources"},
    }
    items = ["resources", "resistance", "incentives", "evidence"]
    long_rows = []
    wide_rows = [["respondent", "country", "sector", *[f"barriers[{i}]" for i in items]]]
    for (respondent, country, sector), ticked in answers.items():
        wide_rows.append(
            [respondent, country, sector, *["Y" if i in ticked else "" for i in items]]
        )
        if ticked:  # r2 ticked nothing: not answered, in either file
            long_rows += [
                [
                    "W-LONG",
                    country,
                    respondent,
                    sector,
                    "barriers",
                    i,
                    "yes" if i in ticked else "no",
                ]
                for i in items
            ]
    assert import_survey(long_file(*long_rows), create_wave=True).ok
    assert import_survey(wide(*wide_rows), wave="W-WIDE", create_wave=True).ok
    question = Question.objects.get(code="barriers")

    def percents(code, **filters):
        wave = Wave.objects.get(code=code)
        return [
            (r.item.code, r.group, r.affirmative, r.responses, r.percent)
            for r in indicator_rows(wave=wave, question=question, **filters)
        ]

    assert percents("W-WIDE") == percents("W-LONG")
    assert percents("W-WIDE", by="country") == percents("W-LONG", by="country")
    assert percents("W-WIDE", by="sector") == percents("W-LONG", by="sector")
    assert ("resources", None, 3, 4, 75.0) in percents("W-WIDE")


def xlsx(*rows):
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_xlsx_errors_name_the_cell():
    result = import_survey(
        xlsx(
            ["id", "country", "sector", "barriers[resources]", "barriers[evidence]"],
            [1, "FIN", 3, "Y", None],
            [2, "XXX", 3, None, "maybe"],
            [3, "FIN", 11, "Y", None],
        ),
        wave="OECD-2010",
    )
    assert not result.ok
    assert sorted((e["cell"], e["value"]) for e in result.errors) == [
        ("B3", "XXX"),
        ("C4", "11"),
        ("E3", "maybe"),
    ]
    assert Response.objects.count() == 0


def test_a_limesurvey_xlsx_imports_like_its_csv():
    header = ["id", "country", "sector", "barriers[resources]", "barriers[evidence]"]
    result = import_survey(xlsx(header, [1, "FIN", 3, "Y", None]), wave="OECD-2010")
    assert result.ok, result.errors
    assert stored() == [
        ("1", "FIN", "03", "evidence", False),
        ("1", "FIN", "03", "resources", True),
    ]


def test_the_import_rules_hold_for_wide_files():
    header = ["respondent", "country", "sector", "barriers/resources", "barriers/newthing"]
    rows = [["a", "FIN", "03", "1", ""]]
    refused = import_survey(wide(header, *rows), wave="NEW-2031")
    assert not refused.ok
    messages = " ".join(e["message"] for e in refused.errors)
    assert "--create-wave" in messages
    assert "--create-items" in messages
    assert not Wave.objects.filter(code="NEW-2031").exists()
    result = import_survey(
        wide(header, *rows), wave="NEW-2031", create_wave=True, create_items=True
    )
    assert result.ok, result.errors
    assert (result.waves_created, result.items_created) == (["NEW-2031"], ["barriers/newthing"])
    changed = import_survey(wide(header, ["a", "FIN", "03", "", "1"]), wave="NEW-2031")
    assert not changed.ok
    assert "choosing to replace recorded answers" in changed.errors[0]["message"]
    replaced = import_survey(
        wide(header, ["a", "FIN", "03", "", "1"]), wave="NEW-2031", replace=True
    )
    assert replaced.ok
    assert replaced.responses_replaced == 2
    twice = import_survey(
        wide(header, ["b", "FIN", "03", "1", ""], ["b", "FIN", "03", "1", ""]), wave="NEW-2031"
    )
    assert not twice.ok
    assert {e["line"] for e in twice.errors} == {3}


def test_round_trip_through_the_long_export():
    header = ["respondent", "country", "sector", "barriers/resources", "barriers/evidence"]
    assert import_survey(wide(header, ["a", "FIN", "03", "1", ""]), wave="OECD-2010").ok
    before = stored()
    text = "".join(export_lines(wave=Wave.objects.get(code="OECD-2010")))
    again = import_survey(io.BytesIO(text.encode()))
    assert again.ok
    assert again.responses_unchanged == 2
    assert again.responses_created == 0
    assert stored() == before


def test_an_unknown_mapping_name_and_a_missing_wave_are_refused():
    header = ["respondent", "country", "sector", "barriers/resources"]
    result = import_survey(wide(header, ["a", "FIN", "03", "1"]), mapping="nope", wave="OECD-2010")
    assert not result.ok
    assert "nope" in result.errors[0]["message"]
    result = import_survey(wide(header, ["a", "FIN", "03", "1"]))
    assert not result.ok
    assert "--wave" in result.errors[0]["message"]


def test_a_saved_mapping_missing_columns_in_the_file_is_refused_on_the_header():
    save(columns="Q3[SQ001] = barriers/resources")
    result = import_survey(
        wide(["respondent", "country", "sector"], ["a", "FIN", "03"]), mapping="m", wave="OECD-2010"
    )
    assert not result.ok
    assert [(e["line"], e["column"]) for e in result.errors] == [(1, "Q3[SQ001]")]


def test_a_mapping_is_checked_before_it_is_saved():
    mapping = ColumnMapping(
        name="bad",
        sector_column="",
        columns="Q3[SQ001] = nosuch/resources\nQ3[SQ002] = barriers/resources\nnonsense",
        answered=ColumnMapping.SHOWN,
        yes_values="1, no",
    )
    with pytest.raises(ValidationError) as caught:
        mapping.full_clean()
    problems = caught.value.message_dict
    assert set(problems) == {"columns", "shown_columns", "no_values"}
    assert any("nosuch" in m for m in problems["columns"])
    assert any("@ 03" in m for m in problems["columns"])
    assert any("Line 3" in m for m in problems["columns"])


def test_a_label_reads_as_ticked():
    resources = Item.objects.get(question__code="barriers", code="resources")
    header = ["respondent", "country", "sector", "barriers/resources"]
    result = import_survey(wide(header, ["a", "FIN", "03", resources.label]), wave="OECD-2010")
    assert result.ok, result.errors
    assert stored() == [("a", "FIN", "03", "resources", True)]


def test_a_preview_without_a_respondent_column_says_so_and_reads_nothing():
    from survey.widefiles import preview

    header = ["barriers[resources]", "country", "sector"]
    shown = preview(wide(header, ["Y", "FIN", "03"]), mapping="limesurvey")
    assert shown.mapping.respondent_column == ""
    assert shown.answers == []
    assert "The mapping names no respondent column." in [p["message"] for p in shown.problems]
