"""Reading a wide survey file through its `ColumnMapping` (see `mappings.py`).

`Plan` compiles a mapping against a file's header (column positions, vocabulary ids);
`read_wide_rows` reads the rows through it, applying the mapping's `answered` rule, and
hands each answer on as a staging row (`importrows.read_wide` for an import); `preview`
reads the first rows of a file the same way and writes nothing.
"""

from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.tables import TableError, TableRow, TableSource, open_table

from .importrows import (
    PROGRESS_EVERY,
    Errors,
    Problem,
    Progress,
    RowChecker,
    StagedRow,
    Vocabulary,
    finished_errors,
    looks_long,
    row_checker,
)
from .mappings import parse_targets, resolve, split_values
from .models import ColumnMapping, Item


@dataclass
class _Group:
    """The columns of one question (for one sector, when the columns carry it)."""

    question_id: int
    question: str
    sector: str
    shown: int | None = None
    shown_column: str = ""
    # (column index, column name, item id, item code, extra values read as ticked)
    cells: list[tuple[int, str, int, str, set[str]]] = field(default_factory=list)


class Plan:
    """A mapping compiled against a file's header: column positions and vocabulary ids.

    Problems (a missing column, an unknown question or item) go to `errors` on the
    header's line, naming the column.
    """

    def __init__(
        self,
        mapping: ColumnMapping,
        header: Sequence[str],
        header_line: int,
        vocabulary: Vocabulary,
        errors: Errors,
    ) -> None:
        self.mapping = mapping
        self.width = len(header)
        self.ignored: list[str] = []
        self.groups: list[_Group] = []
        self.answers: dict[str, bool] = {}
        positions: dict[str, int] = {}
        for index, name in enumerate(header):
            positions.setdefault(name, index)
            positions.setdefault(name.lower(), index)

        def position(name: str, what: str) -> int | None:
            index = positions.get(name, positions.get(name.lower()))
            if index is None:
                errors.add(
                    header_line,
                    name,
                    "",
                    _("Missing column: the mapping reads %(what)s there.") % {"what": what},
                )
            return index

        if not mapping.respondent_column:
            errors.add(header_line, "", "", _("The mapping names no respondent column."))
        if not mapping.country_column:
            errors.add(header_line, "", "", _("The mapping names no country column."))
        self.respondent = (
            position(mapping.respondent_column, _("the respondent"))
            if mapping.respondent_column
            else None
        )
        self.country = (
            position(mapping.country_column, _("the country")) if mapping.country_column else None
        )
        self.sector: int | None = None
        if mapping.sector_column:
            self.sector = position(mapping.sector_column, _("the sector"))
        try:
            mapping.clean()
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                for message in messages:
                    errors.add(header_line, "", "", message)
            return
        targets, _problems = parse_targets(mapping.columns)
        labels = _item_labels()
        groups: dict[tuple[int | None, str], _Group] = {}
        for target in targets:
            column = position(target.column, f"{target.question}/{target.item}")
            question_id = vocabulary.questions.get(target.question)
            if column is None or question_id is None:
                continue
            item_id, problem = vocabulary.item(question_id, target.item)
            if item_id is None or problem:
                errors.add(header_line, target.column, target.item, problem)
                continue
            group = groups.get((question_id, target.sector))
            if group is None:
                group = groups[(question_id, target.sector)] = _Group(
                    question_id, target.question, target.sector
                )
            extra = labels.get(item_id, set()) | {target.item.lower()}
            group.cells.append((column, target.column, item_id, target.item, extra))
        if mapping.answered == ColumnMapping.SHOWN:
            shown, _problems = parse_targets(mapping.shown_columns, with_items=False)
            for target in shown:
                group = groups.get((vocabulary.questions.get(target.question), target.sector))
                if group is not None:
                    group.shown = position(target.column, _("whether the question was shown"))
                    group.shown_column = target.column
        self.groups = list(groups.values())
        used = {self.respondent, self.country, self.sector}
        used |= {cell[0] for group in self.groups for cell in group.cells}
        used |= {group.shown for group in self.groups}
        self.ignored = [name for index, name in enumerate(header) if index not in used]
        answers: dict[str, bool] = {}
        for value in split_values(mapping.no_values):
            answers[value] = False
        for value in split_values(mapping.yes_values):
            answers[value] = True
        for value, answer in list(answers.items()):
            answers[value.upper()] = answers[value.capitalize()] = answer
        self.answers = answers

    def answer(self, cell: str, extra: Container[str]) -> bool | None:
        """True, False, or None when `cell` cannot be read."""
        answer = self.answers.get(cell)
        if answer is None:
            cleaned = cell.strip().lower()
            answer = self.answers.get(cleaned)
            if answer is None and cleaned in extra:
                answer = True
        return answer

    def unreadable(self) -> str:
        return _(
            "Cannot read this cell: ticked is %(yes)s (or the item's label), not ticked is "
            "%(no)s or blank."
        ) % {
            "yes": ", ".join(sorted(split_values(self.mapping.yes_values))),
            "no": ", ".join(sorted(split_values(self.mapping.no_values))),
        }


def _item_labels() -> dict[int, set[str]]:
    """Each item's labels in every language, lowercased: a cell holding one reads ticked."""
    fields = [f"label_{code}" for code, _name in settings.LANGUAGES]
    labels: dict[int, set[str]] = {}
    for row in Item.objects.values_list("pk", "code", *fields):
        labels[row[0]] = {value.strip().lower() for value in row[1:] if value}
    return labels


#: Told of each question a row did not answer: (line, respondent, country, sector, question).
Skipped = Callable[[int, str, str, str, str], None]


def read_wide_rows(
    rows: Iterable[TableRow],
    plan: Plan,
    *,
    wave_id: int | None,
    check_row: RowChecker,
    add: Callable[[StagedRow], None],
    errors: Errors,
    progress: Progress = None,
    skipped: Skipped | None = None,
) -> int:
    """Read a wide file's rows through `plan`; `add` each answer as a staging row
    (line, wave id, respondent, country, sector, item id, answer). Returns the number of
    rows read.

    check_row(line, respondent, country, sector) returns the cleaned (respondent, country,
    sector), or None after adding its errors. skipped(line, respondent, country, sector,
    question) is told of each question a row did not answer (for the preview).
    """
    mapping = plan.mapping
    rule = mapping.answered
    groups = plan.groups
    width = plan.width
    answer_of = plan.answer
    i_respondent, i_country, i_sector = plan.respondent, plan.country, plan.sector
    if i_respondent is None or i_country is None:
        return 0  # the plan's errors say which column is missing
    to_skip = mapping.skip_rows
    count = 0
    since_progress = 0
    for line, values in rows:
        if to_skip:
            to_skip -= 1
            continue
        count += 1
        since_progress += 1
        if progress and since_progress == PROGRESS_EVERY:
            progress(since_progress)
            since_progress = 0
        if len(values) != width:
            errors.add_wrong_width(line, values, width)
            continue
        row = check_row(
            line,
            values[i_respondent],
            values[i_country],
            values[i_sector] if i_sector is not None else None,
        )
        for group in groups:
            read: list[tuple[int, bool]] = []
            ticked = filled = False
            bad = False
            for index, column, item_id, _code, extra in group.cells:
                cell = values[index]
                if not cell:
                    read.append((item_id, False))
                    continue
                answer = answer_of(cell, extra)
                if answer is None:
                    errors.add(line, column, cell, plan.unreadable())
                    bad = True
                    continue
                filled = True
                ticked = ticked or answer
                read.append((item_id, answer))
            if bad or row is None:
                continue
            if rule == ColumnMapping.TICKED:
                answered = ticked
            elif rule == ColumnMapping.FILLED:
                answered = filled
            elif rule == ColumnMapping.SHOWN:
                shown_cell = values[group.shown] if group.shown is not None else ""
                answered = bool(shown_cell) and answer_of(shown_cell, ()) is True
                if shown_cell and answer_of(shown_cell, ()) is None:
                    errors.add(line, group.shown_column, shown_cell, plan.unreadable())
                    continue
                if ticked and not answered:
                    errors.add(
                        line,
                        group.shown_column,
                        shown_cell,
                        _(
                            "An option of %(question)s is ticked, but this column says the "
                            "question was not shown."
                        )
                        % {"question": group.question},
                    )
                    continue
            else:
                answered = True
            respondent, country, row_sector = row
            sector = group.sector or row_sector or ""  # one or the other: `check_mapping`
            if not answered:
                if skipped:
                    skipped(line, respondent, country, sector, group.question)
                continue
            for item_id, answer in read:
                add((line, wave_id, respondent, country, sector, item_id, answer))
    if progress and since_progress:
        progress(since_progress)
    return count


def first_rows(rows: Iterator[TableRow], count: int) -> tuple[list[TableRow], Iterator[TableRow]]:
    """The first `count` rows of an iterator, and an iterator over all of them again."""
    head = list(islice(rows, count))
    return head, _chain(head, rows)


def _chain(head: list[TableRow], rows: Iterator[TableRow]) -> Iterator[TableRow]:
    yield from head
    yield from rows


@dataclass
class Preview:
    """What a file reads as, before anything is imported."""

    kind: str  # "long": the long format, no mapping needed; "wide": through `mapping`
    header: list[str]
    mapping: ColumnMapping | None = None
    ignored: list[str] = field(default_factory=list)  # columns the mapping does not read
    problems: list[Problem] = field(default_factory=list)  # line, column, cell, value, message
    # One dict per (row, sector, question, item): line, respondent, country, sector,
    # question, item, answer ("yes", "no" or "" when the question was not answered).
    answers: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        mapping = self.mapping
        return {
            "kind": self.kind,
            "header": self.header,
            "mapping": None
            if mapping is None
            else {
                "name": mapping.name,
                "saved": mapping.pk is not None,
                "preset": mapping.preset,
                **{name: getattr(mapping, name) for name in ColumnMapping.READING_FIELDS},
            },
            "ignored": self.ignored,
            "problems": self.problems,
            "answers": self.answers,
        }


def preview(
    source: TableSource, *, mapping: ColumnMapping | str | None = None, rows: int = 5
) -> Preview:
    """Read the first `rows` rows of a file as answers, through `mapping` (a mapping, a
    saved mapping's or a preset's name, or None to propose one), writing nothing.
    Raises LookupError for an unknown mapping name."""
    errors = Errors()
    try:
        table = open_table(source)
    except TableError as error:
        errors.add(error.line or 1, "", "", error.message)
        return Preview("wide", [], problems=errors.kept)
    with table:
        if mapping is None and looks_long(table.header):
            return Preview("long", table.header)
        result = Preview("wide", table.header)
        head: list[TableRow] = []
        all_rows: Iterator[TableRow] = iter(())
        try:
            head, all_rows = first_rows(iter(table), 3)
        except TableError as error:
            errors.add(error.line, "", "", error.message)
        result.mapping = resolve(mapping, table.header, [values for _line, values in head])
        vocabulary = Vocabulary(create_wave=False, create_items=False)
        plan = Plan(result.mapping, table.header, table.header_line, vocabulary, errors)
        result.ignored = plan.ignored
        codes = {
            cell[2]: (group.question, cell[3]) for group in plan.groups for cell in group.cells
        }
        by_question: dict[str, list[str]] = {}
        for group in plan.groups:
            by_question.setdefault(group.question, []).extend(cell[3] for cell in group.cells)

        def show(
            line: int,
            respondent: str,
            country: str,
            sector: str,
            question: str,
            item: str,
            ticked: str,
        ) -> None:
            result.answers.append(
                {
                    "line": line,
                    "respondent": respondent,
                    "country": country,
                    "sector": sector,
                    "question": question,
                    "item": item,
                    "answer": ticked,
                }
            )

        def add(row: StagedRow) -> None:
            line, _wave, respondent, country, sector, item_id, answer = row
            show(line, respondent, country, sector, *codes[item_id], "yes" if answer else "no")

        def skipped(line: int, respondent: str, country: str, sector: str, question: str) -> None:
            for item in by_question.get(question, []):
                show(line, respondent, country, sector, question, item, "")

        if plan.groups:
            try:
                read_wide_rows(
                    islice(all_rows, rows + result.mapping.skip_rows),
                    plan,
                    wave_id=None,
                    check_row=row_checker(result.mapping, vocabulary, errors),
                    add=add,
                    errors=errors,
                    skipped=skipped,
                )
            except TableError as error:
                errors.add(error.line, "", "", error.message)
        result.problems = finished_errors(errors.kept, table)
    return result
