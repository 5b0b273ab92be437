"""Reading a survey file's rows one by one, for `imports.py`.

Each row is checked against the vocabulary (`Vocabulary`, loaded once: a few hundred codes,
with new waves and items made on demand) and the valid ones go to the staging table
(`importstaging.py`). `read_rows` reads the long format; `read_wide` reads a wide file
through its mapping (`mappings.py`), with `row_checker`'s checks of the fixed columns.
`Errors` keeps the first problems of the whole import and counts them all.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.csvfiles import unneutralise
from core.tables import Table, TableError, TableRow

from .models import ColumnMapping, Country, Item, Question, Sector, Wave, code_validator

if TYPE_CHECKING:
    from .importstaging import Staging

COLUMNS = ("wave", "country", "respondent", "sector", "question", "item", "answer")
MAX_ERRORS = 50
PROGRESS_EVERY = 10000

ANSWERS = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}
_RESPONDENT_MAX = 200
_CODE_MAX = 32

#: One problem found: its line, column, value, message (and, once finished, its cell).
Problem = dict[str, Any]
#: A valid row, as the staging table holds it:
#: (line, wave id, respondent, country, sector, item id, answer); a preview has no wave.
StagedRow = tuple[int, int | None, str, str, str, int, bool]
#: Told how many rows were read since it was last called.
Progress = Callable[[int], object] | None
#: (respondent, country, sector) cleaned, or None after their errors were added.
RowChecker = Callable[[int, str, str, str | None], tuple[str, str, str | None] | None]


class Errors:
    """Keeps the first errors in line order and counts all of them."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.count = 0

    def add(self, line: int | None, column: str, value: object, message: object) -> None:
        self.count += 1
        if len(self.kept) < MAX_ERRORS:
            self.kept.append(
                {"line": line, "column": column, "value": shown(value), "message": str(message)}
            )

    def add_wrong_width(self, line: int, fields: Sequence[str], width: int) -> None:
        """A row with another number of fields than the header."""
        self.add(
            line,
            "",
            ",".join(fields),
            _("Expected %(expected)d fields, found %(found)d.")
            % {"expected": width, "found": len(fields)},
        )

    def merge(self, others: Iterable[Problem], count: int) -> None:
        """Add set-level errors (already limited) and their total."""
        self.count += count
        self.kept = sorted(self.kept + list(others), key=lambda e: (e["line"], e["column"]))[
            :MAX_ERRORS
        ]


def shown(value: object) -> str:
    value = "" if value is None else str(value)
    return value if len(value) <= 200 else value[:199] + "…"


def _wave_year(code: str) -> int | None:
    match = re.search(r"(19|20|21)\d\d", code)
    return int(match.group(0)) if match else None


class Vocabulary:
    """The codes a file may use, loaded once; new waves and items made on demand."""

    def __init__(self, *, create_wave: bool, create_items: bool) -> None:
        self.create_wave = create_wave
        self.create_items = create_items
        self.waves: dict[str, int] = dict(Wave.objects.values_list("code", "pk"))
        self.countries = set(Country.objects.values_list("code", flat=True))
        self.sectors: dict[str, str] = {}
        for code in Sector.objects.values_list("code", flat=True):
            self.sectors[code] = code
            if code.isdigit():
                self.sectors[str(int(code))] = code
        self.questions: dict[str, int] = dict(Question.objects.values_list("code", "pk"))
        self.items: dict[tuple[int, str], int] = {
            (question, code): pk
            for pk, question, code in Item.objects.values_list("pk", "question_id", "code")
        }
        self.waves_created: list[str] = []
        self.items_created: list[str] = []
        # Called before a wave or item is created: the staging COPY must end first.
        self.before_writing: Callable[[], None] = lambda: None

    def wave(self, code: str) -> tuple[int | None, str | None]:
        """(wave id, None) or (None, error message)."""
        pk = self.waves.get(code)
        if pk is not None:
            return pk, None
        if not code:
            return None, _("A wave code is required.")
        if not self.create_wave:
            return None, _("Unknown wave; use --create-wave (the admin checkbox) to create it.")
        problem = _code_problem(code)
        if problem:
            return None, problem
        year = _wave_year(code)
        self.before_writing()
        try:
            # Another import creating the same wave makes this wait for it; once it commits,
            # the unique code refuses this one and the wave it made is used instead.
            with transaction.atomic():
                wave = Wave.objects.create(
                    code=code,
                    title=code,
                    year=year or 2000,
                    notes=_("Created by a survey import.")
                    + ("" if year else " " + _("Set the year: it was not in the code.")),
                )
        except IntegrityError:
            pk = Wave.objects.filter(code=code).values_list("pk", flat=True).first()
            if pk is None:
                raise
            self.waves[code] = pk
            return pk, None
        self.waves[code] = wave.pk
        self.waves_created.append(code)
        return wave.pk, None

    def item(self, question_id: int, code: str) -> tuple[int | None, str | None]:
        pk = self.items.get((question_id, code))
        if pk is not None:
            return pk, None
        if not code:
            return None, _("An item code is required.")
        if not self.create_items:
            return None, _(
                "Unknown item for this question; use --create-items (the admin checkbox) "
                "to create it."
            )
        problem = _code_problem(code)
        if problem:
            return None, problem
        self.before_writing()
        order = Item.objects.filter(question_id=question_id).count() + 1
        try:
            with transaction.atomic():  # as for a wave: another import may create it too
                item = Item.objects.create(
                    question_id=question_id, code=code, label=code, order=order
                )
        except IntegrityError:
            existing = Item.objects.filter(question_id=question_id, code=code)
            pk = existing.values_list("pk", flat=True).first()
            if pk is None:
                raise
            self.items[(question_id, code)] = pk
            return pk, None
        self.items[(question_id, code)] = item.pk
        self.items_created.append(f"{item.question.code}/{code}")
        return item.pk, None


def _code_problem(code: str) -> str | None:
    if len(code) > _CODE_MAX:
        return _("A code has at most %(max)d characters.") % {"max": _CODE_MAX}
    try:
        code_validator(code)
    except ValidationError as exc:
        return " ".join(str(m) for m in exc.messages)
    return None


def read_rows(
    table: Table,
    rows: Iterator[TableRow],
    vocabulary: Vocabulary,
    staging: "Staging",
    errors: Errors,
    progress: Progress,
) -> int:
    """Check each row and stage the valid ones. Returns the number of data rows."""
    names = table.header
    positions = {}
    for index, name in enumerate(names):
        if name not in COLUMNS:
            errors.add(
                table.header_line,
                name,
                name,
                _("Unknown column; the columns are %(columns)s.") % {"columns": ",".join(COLUMNS)},
            )
        elif name in positions:
            errors.add(table.header_line, name, name, _("Duplicate column."))
        else:
            positions[name] = index
    for name in COLUMNS:
        if name not in positions:
            errors.add(table.header_line, name, "", _("Missing column."))
    if errors.count:
        return 0

    i_wave, i_country, i_respondent, i_sector, i_question, i_item, i_answer = (
        positions[name] for name in COLUMNS
    )
    width = len(names)
    waves, countries, sectors = vocabulary.waves, vocabulary.countries, vocabulary.sectors
    questions, items = vocabulary.questions, vocabulary.items
    add = staging.add
    count = 0
    since_progress = 0
    while True:
        try:
            line, fields = next(rows)
        except StopIteration:
            break
        except TableError as error:
            errors.add(error.line, "", "", error.message)
            break
        count += 1
        since_progress += 1
        if since_progress == PROGRESS_EVERY:
            if progress:
                progress(since_progress)
            since_progress = 0
        if len(fields) != width:
            errors.add_wrong_width(line, fields, width)
            continue
        bad = False
        # Each value is first looked up as it is (the common case, and the fast one);
        # only a miss pays for normalising it.
        raw = fields[i_wave]
        wave_id = waves.get(raw)
        if wave_id is None:
            raw = unneutralise(raw).strip()
            wave_id = waves.get(raw)
            if wave_id is None:
                wave_id, problem = vocabulary.wave(raw)
                if problem:
                    errors.add(line, "wave", raw, problem)
                    bad = True

        country = fields[i_country]
        if country not in countries:
            country = country.strip().upper()
            if country not in countries:
                errors.add(
                    line,
                    "country",
                    fields[i_country],
                    _("Unknown country: use ISO 3166-1 alpha-3."),
                )
                bad = True

        respondent = fields[i_respondent]
        if respondent[:1] in ("'", " ") or respondent[-1:] == " ":
            respondent = unneutralise(respondent).strip(" ")
        if (
            not respondent
            or len(respondent) > _RESPONDENT_MAX
            or respondent.isspace()
            or "\x00" in respondent
        ):
            errors.add(line, "respondent", respondent, _respondent_problem(respondent))
            bad = True

        sector = sectors.get(fields[i_sector])
        if sector is None:
            sector = sectors.get(fields[i_sector].strip())
            if sector is None:
                errors.add(
                    line,
                    "sector",
                    fields[i_sector],
                    _("Unknown sector: use a COFOG code 01 to 10."),
                )
                bad = True

        question_id = questions.get(fields[i_question])
        if question_id is None:
            question_id = questions.get(unneutralise(fields[i_question]).strip())
        item_id = None
        if question_id is None:
            errors.add(line, "question", fields[i_question], _("Unknown question."))
            bad = True
        else:
            item_id = items.get((question_id, fields[i_item]))
            if item_id is None:
                code = unneutralise(fields[i_item]).strip()
                item_id = items.get((question_id, code))
                if item_id is None:
                    item_id, problem = vocabulary.item(question_id, code)
                    if problem:
                        errors.add(line, "item", fields[i_item], problem)
                        bad = True

        answer = ANSWERS.get(fields[i_answer])
        if answer is None:
            answer = ANSWERS.get(fields[i_answer].strip().lower())
            if answer is None:
                errors.add(
                    line,
                    "answer",
                    fields[i_answer],
                    _("Answer yes or no (y/n, true/false, 1/0)."),
                )
                bad = True

        if not bad:
            # Valid rows are staged even after an error elsewhere, so that the
            # whole-file checks report everything in one go. (Not bad: no value is None.)
            add((line, wave_id, respondent, country, sector, item_id, answer))  # type: ignore[arg-type]
    if progress and since_progress:
        progress(since_progress)
    return count


def _respondent_problem(respondent: str) -> str | None:
    """Why `respondent` cannot be a respondent's code, or None."""
    if "\x00" in respondent:
        return _("A respondent code cannot contain a NUL character.")
    if len(respondent) > _RESPONDENT_MAX:
        return _("A respondent code has at most %(max)d characters.") % {"max": _RESPONDENT_MAX}
    if not respondent or respondent.isspace():
        return _("A respondent code is required.")
    return None


def row_checker(mapping: ColumnMapping, vocabulary: Vocabulary, errors: Errors) -> RowChecker:
    """For a wide file's rows: check_row(line, respondent, country, sector) returns them
    cleaned, or None after adding their errors (the same messages as the long format)."""
    countries, sectors = vocabulary.countries, vocabulary.sectors

    def check_row(
        line: int, respondent: str, country: str, sector: str | None
    ) -> tuple[str, str, str | None] | None:
        ok = True
        if respondent[:1] in ("'", " ") or respondent[-1:] == " ":
            respondent = unneutralise(respondent).strip(" ")
        problem = _respondent_problem(respondent)
        if problem:
            errors.add(line, mapping.respondent_column, respondent, problem)
            ok = False
        code = country if country in countries else country.strip().upper()
        if code not in countries:
            errors.add(
                line,
                mapping.country_column,
                country,
                _("Unknown country: use ISO 3166-1 alpha-3."),
            )
            ok = False
        if sector is not None:
            found = sectors.get(sector) or sectors.get(sector.strip())
            if found is None:
                errors.add(
                    line,
                    mapping.sector_column,
                    sector,
                    _("Unknown sector: use a COFOG code 01 to 10."),
                )
                ok = False
            sector = found
        return (respondent, code, sector) if ok else None

    return check_row


def read_wide(
    table: Table,
    rows: Iterator[TableRow],
    mapping: ColumnMapping,
    wave: str | None,
    vocabulary: Vocabulary,
    staging: "Staging",
    errors: Errors,
    progress: Progress,
) -> tuple[int, int]:
    """A wide file through its mapping (`widefiles.py`): (rows read, answers staged)."""
    from .widefiles import Plan, read_wide_rows

    wave_id = None
    if not wave:
        errors.add(
            table.header_line,
            "",
            "",
            _("A wide file has no wave column: name the wave (--wave CODE)."),
        )
    else:
        wave_id, problem = vocabulary.wave(wave)
        if problem:
            errors.add(table.header_line, "", wave, problem)
    plan = Plan(mapping, table.header, table.header_line, vocabulary, errors)
    if errors.count:
        return 0, 0
    check_row = row_checker(mapping, vocabulary, errors)
    answers = 0

    def add(row: StagedRow) -> None:
        nonlocal answers
        answers += 1
        staging.add(row)

    count = read_wide_rows(
        rows,
        plan,
        wave_id=wave_id,
        check_row=check_row,
        add=add,
        errors=errors,
        progress=progress,
    )
    return count, answers


def looks_long(header: Sequence[str]) -> bool:
    """Whether a header is meant as the long format (even with a column misspelt)."""
    return bool({name.lower() for name in header} & {"wave", "question", "item", "answer"})


def finished_errors(
    errors: list[Problem], table: Table | None, renames: dict[str, str] | None = None
) -> list[Problem]:
    """`errors` with the file's column names, and each cell's address in a sheet."""
    for error in errors:
        column = error["column"] = (renames or {}).get(error["column"]) or error["column"]
        index = table.header.index(column) if table and column in table.header else None
        cell = table.address(error["line"], index) if table and index is not None else None
        error["cell"] = cell or ""
    return errors
