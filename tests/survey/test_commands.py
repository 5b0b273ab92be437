"""The import_survey and export_survey commands, and the export → import round trip."""

import io

import pytest
from django.core.management import CommandError, call_command

from survey.models import Respondent, Response, Wave
from tests.factories import WaveFactory, answer

pytestmark = pytest.mark.django_db

HEADER = "wave,country,respondent,sector,question,item,answer\n"
ODD_NAMES = [
    "=cmd|' /C calc'!A0",
    "+33 1 23",
    "-minus",
    "@at",
    "\ttabbed",
    "comma, inside",
    'quote "d"',
    "naïve Ærø",
    "'quoted",
]


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


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_command_prints_the_summary(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "OECD-2010,FIN,r,03,barriers,resources,yes\n", encoding="utf-8")
    out, err = run("import_survey", str(path))
    assert "1 row read: 1 respondent created; responses: 1 created, 0 unchanged" in out
    assert err == ""  # no progress bar when stderr is not a terminal


def test_import_command_fails_with_line_numbered_errors(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        HEADER
        + "OECD-2010,FIN,r,03,barriers,resources,yes\n"
        + "OECD-2010,FIN,r,99,barriers,evidence,x\n",
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 2 problem"):
        call_command("import_survey", str(path), stdout=io.StringIO(), stderr=err)
    assert "line 3, column sector: Unknown sector" in err.getvalue()
    assert "line 3, column answer" in err.getvalue()
    assert Response.objects.count() == 0


def test_import_command_options_reach_the_importer(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "NEW-2031,FIN,r,03,barriers,time,yes\n", encoding="utf-8")
    with pytest.raises(CommandError):
        run("import_survey", str(path))
    out, _ = run("import_survey", str(path), "--create-wave", "--create-items")
    assert "Created wave NEW-2031." in out
    assert "Created item barriers/time." in out
    path.write_text(HEADER + "NEW-2031,FIN,r,03,barriers,time,no\n", encoding="utf-8")
    with pytest.raises(CommandError):
        run("import_survey", str(path))
    out, _ = run("import_survey", str(path), "--replace")
    assert "1 replaced" in out


def test_import_command_refuses_a_missing_file():
    with pytest.raises(CommandError, match="No such file"):
        run("import_survey", "/nonexistent/survey.csv")


def test_export_command_writes_the_seven_columns(tmp_path):
    wave = Wave.objects.get(code="OECD-2010")
    answer(wave, "FIN", "fi-1", "03", "barriers", {"resources": True, "evidence": False})
    out, _ = run("export_survey")
    assert out.splitlines() == [
        HEADER.strip(),
        "OECD-2010,FIN,fi-1,03,barriers,resources,yes",
        "OECD-2010,FIN,fi-1,03,barriers,evidence,no",
    ]
    target = tmp_path / "out.csv"
    run("export_survey", "--wave", "OECD-2010", "-o", str(target))
    assert target.read_bytes().decode("utf-8").splitlines()[1:] == out.splitlines()[1:]


def test_export_command_can_select_a_wave():
    answer(Wave.objects.get(code="OECD-2010"), "FIN", "a", "03", "barriers", {"resources": True})
    answer(WaveFactory(code="OTHER-2020"), "CAN", "b", "07", "reasons", {"costs": True})
    out, _ = run("export_survey", "--wave", "OTHER-2020")
    assert out.splitlines()[1:] == ["OTHER-2020,CAN,b,07,reasons,costs,yes"]
    with pytest.raises(CommandError, match="Unknown wave"):
        run("export_survey", "--wave", "NOPE")


def test_export_then_import_round_trips_to_identical_data(tmp_path):
    wave = Wave.objects.get(code="OECD-2010")
    other = WaveFactory(code="OTHER-2020")
    for n, name in enumerate(ODD_NAMES):
        country = ("FIN", "CAN", "FRA")[n % 3]
        answer(wave, country, name, "03", "barriers", {"resources": True, "evidence": n % 2 == 0})
        answer(wave, country, name, "10", "factors", {"frameworks": n % 3 == 0})
        answer(other, "GBR", name, "07", "reasons", {"costs": False, "quality": True})
    before = snapshot()
    path = tmp_path / "export.csv"
    run("export_survey", "-o", str(path))

    Response.objects.all().delete()
    Respondent.objects.all().delete()
    out, _ = run("import_survey", str(path))
    assert snapshot() == before
    assert f"{len(before)} created" in out

    # A second import of the same export changes nothing.
    out, _ = run("import_survey", str(path))
    assert f"0 created, {len(before)} unchanged, 0 replaced" in out
    assert snapshot() == before


def test_progress_bar_shows_only_on_a_terminal(tmp_path, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    path = tmp_path / "s.csv"
    path.write_text(HEADER + "OECD-2010,FIN,r,03,barriers,resources,yes\n", encoding="utf-8")
    call_command("import_survey", str(path), stdout=io.StringIO(), stderr=Terminal())
    assert "Reading: 100%" in capsys.readouterr().err
    run("import_survey", str(path))
    assert capsys.readouterr().err == ""
