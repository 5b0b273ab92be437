"""Wide survey files: one row per respondent (or respondent and sector), one column per
option of a multiple-choice question, read through a `ColumnMapping`.

A mapping names the respondent, country and sector columns (or says that each answer
column carries its sector), lists the answer columns as `column = question/item [@ sector]`
lines, says which cell values read as ticked and not ticked, and how to tell that a
question was answered at all (the `answered` rule; see README, "Wide survey files"):

- `ticked`: answered when at least one option of the question is ticked in that row
  (and sector); its other options, blank or not, read as no. Nothing ticked: not answered,
  so the (respondent, sector) pair is left out of that question's denominator.
- `filled`: answered when any cell of the question is filled, a tick or an explicit no
  (tools that write 0 for an unticked box of a question that was shown, as Kobo does).
- `shown`: a "question shown" column per question says it; an option ticked in a row
  where the question was not shown is an error.
- `all`: every row answered every question; every blank is no.

Presets recognise the LimeSurvey (`Q3[SQ002]`), KoboToolbox (`group/barriers/resources`)
and Qualtrics (`Q3_2`, `1_Q3_2` for a loop) column names from the header alone and
propose a mapping (`propose`); staff confirm or correct it after a `preview`.
"""

import re
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import ColumnMapping, Item, Question

PRESETS = ("limesurvey", "kobo", "qualtrics")
FIXED_COLUMNS = ("respondent", "country", "sector")
# The column each tool gives a respondent's id, in order of preference.
_RESPONDENT_COLUMNS = {
    "limesurvey": ("id", "token"),
    "kobo": ("_uuid", "_id", "_index"),
    "qualtrics": ("ResponseId", "ResponseID", "Response ID"),
}
_DEFAULT_ANSWERED = {
    "limesurvey": ColumnMapping.TICKED,  # `Y` or blank
    "kobo": ColumnMapping.FILLED,  # 1/0 when the question was shown, blank when it was not
    "qualtrics": ColumnMapping.TICKED,  # 1 or blank
}


@dataclass(frozen=True)
class Target:
    """One line of a mapping: the file's `column` holds `question`/`item` (for `sector`)."""

    column: str
    question: str
    item: str = ""
    sector: str = ""

    def line(self):
        text = f"{self.column} = {self.question}"
        if self.item:
            text += f"/{self.item}"
        if self.sector:
            text += f" @ {self.sector}"
        return text


_TARGET = re.compile(
    r"^(?P<question>[^\s/@]+)(?:\s*/\s*(?P<item>[^\s/@]+))?(?:\s*@\s*(?P<sector>\S+))?$"
)


def sector_code(text):
    """`03` for `3`, `03`, `s3`, `sector_03`, `cofog03`; None if `text` names no sector."""
    match = re.fullmatch(r"(?:sector|cofog|s)?[_-]?(\d{1,2})", text.strip(), re.IGNORECASE)
    if not match or not 1 <= int(match.group(1)) <= 10:
        return None
    return f"{int(match.group(1)):02d}"


def parse_targets(text, *, with_items=True):
    """The `column = question/item [@ sector]` lines of `text`: (targets, problems), each
    problem a (line number, message) pair. Blank lines and `#` comments are skipped."""
    targets, problems = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        column, equals, target = line.rpartition("=")
        match = _TARGET.match(target.strip())
        if not equals or not column.strip() or not match:
            problems.append(
                (
                    number,
                    _("Write “column = question/item”, with “@ sector” if the column has one.")
                    if with_items
                    else _("Write “column = question”, with “@ sector” if the column has one."),
                )
            )
            continue
        sector = ""
        if match.group("sector"):
            sector = sector_code(match.group("sector"))
            if sector is None:
                problems.append((number, _("Unknown sector: use a COFOG code 01 to 10.")))
                continue
        item = match.group("item") or ""
        if with_items and not item:
            problems.append((number, _("Name the item: “question/item”.")))
            continue
        if not with_items and item:
            problems.append((number, _("A “question shown” column names a question, no item.")))
            continue
        targets.append(Target(column.strip(), match.group("question"), item, sector))
    return targets, problems


def format_targets(targets):
    return "\n".join(target.line() for target in targets)


def check_mapping(mapping):
    """The model's `clean()`: raise a ValidationError naming each field's problems."""
    problems = {}

    def add(field_name, message):
        problems.setdefault(field_name, []).append(message)

    questions = set(Question.objects.values_list("code", flat=True))
    targets, parse_problems = parse_targets(mapping.columns or "")
    for number, message in parse_problems:
        add("columns", _("Line %(line)d: %(message)s") % {"line": number, "message": message})
    if not targets and not parse_problems:
        add("columns", _("List at least one answer column."))
    seen_columns, seen_targets = set(), set()
    in_names = not mapping.sector_column
    for target in targets:
        if target.question not in questions:
            add(
                "columns",
                _("%(column)s: unknown question “%(question)s”; the questions are %(known)s.")
                % {
                    "column": target.column,
                    "question": target.question,
                    "known": ", ".join(sorted(questions)),
                },
            )
        if in_names and not target.sector:
            add(
                "columns",
                _("%(column)s: give its sector (“@ 03”), or name the sector column.")
                % {"column": target.column},
            )
        if not in_names and target.sector:
            add(
                "columns",
                _("%(column)s: the sector comes from the sector column; remove “@ %(sector)s”.")
                % {"column": target.column, "sector": target.sector},
            )
        if target.column in seen_columns:
            add("columns", _("%(column)s is listed twice.") % {"column": target.column})
        key = (target.question, target.item, target.sector)
        if key in seen_targets:
            add(
                "columns",
                _("%(column)s: another column already holds this item.")
                % {"column": target.column},
            )
        seen_columns.add(target.column)
        seen_targets.add(key)
    if mapping.answered == ColumnMapping.SHOWN:
        shown, shown_problems = parse_targets(mapping.shown_columns or "", with_items=False)
        for number, message in shown_problems:
            add(
                "shown_columns",
                _("Line %(line)d: %(message)s") % {"line": number, "message": message},
            )
        given = {(target.question, target.sector) for target in shown}
        needed = {(target.question, target.sector) for target in targets}
        for question, sector in sorted(needed - given):
            add(
                "shown_columns",
                _("Name the “question shown” column of %(question)s%(sector)s.")
                % {"question": question, "sector": f" @ {sector}" if sector else ""},
            )
    yes, no = split_values(mapping.yes_values), split_values(mapping.no_values)
    if not yes:
        add("yes_values", _("Give at least one value read as ticked."))
    if yes & no:
        add(
            "no_values",
            _("Read as both ticked and not ticked: %(values)s.")
            % {"values": ", ".join(sorted(yes & no))},
        )
    if problems:
        raise ValidationError(problems)


def split_values(text):
    return {value.strip().lower() for value in (text or "").split(",") if value.strip()}


# --- Presets ---------------------------------------------------------------------------


def _limesurvey(name):
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)\[([^\[\]]+)\](?:\[([^\[\]]+)\])?", name)
    if not match:
        return None
    question, item, sector = match.group(1), match.group(2), match.group(3)
    if sector is not None:
        sector = sector_code(sector)
        if sector is None:
            return None
    elif "_" in item and sector_code(item.rpartition("_")[2]):
        # An array by column: `barriers[resources_03]`.
        item, sector = item.rpartition("_")[0], sector_code(item.rpartition("_")[2])
    return question, item, sector or ""


def _kobo(name):
    if name.startswith("_") or "/" not in name:
        return None
    parts = [part for part in name.split("/") if part]
    if len(parts) < 2:
        return None
    sector = next((sector_code(part) for part in parts[:-2] if sector_code(part)), "")
    return parts[-2], parts[-1], sector


def _qualtrics(name):
    match = re.fullmatch(r"(?:(\d{1,2})_)?([A-Za-z][A-Za-z0-9]*)_(\d+)", name)
    if not match:
        return None
    sector = ""
    if match.group(1):
        sector = sector_code(match.group(1))
        if sector is None:
            return None
    return match.group(2), match.group(3), sector


_NAMES = {"limesurvey": _limesurvey, "kobo": _kobo, "qualtrics": _qualtrics}


def _find(header, *names):
    """The header's column named like one of `names` (any case), or ""."""
    lowered = {column.lower(): column for column in header}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return ""


def recognise(header):
    """The preset whose naming convention matches most columns of `header`, or ""."""
    best, best_score = "", 0
    for preset in PRESETS:
        score = sum(1 for name in header if _NAMES[preset](name))
        if score and _find(header, *_RESPONDENT_COLUMNS[preset]):
            score += 1
        if score > best_score:
            best, best_score = preset, score
    return best


def _vocabulary():
    questions = {q.code.lower(): q for q in Question.objects.all()}
    items = {}
    for item in Item.objects.order_by("question_id", "order", "code"):
        items.setdefault(item.question_id, []).append(item)
    return questions, items


def _item_for(source, items):
    """The coprod item a tool's option code stands for: the same code, or, for a numbered
    option (`2`, `SQ002`, `A2`), the item in that position."""
    for item in items:
        if item.code.lower() == source.lower():
            return item.code
    match = re.fullmatch(r"(?:SQ|A|_)?0*(\d+)", source, re.IGNORECASE)
    if match and 1 <= int(match.group(1)) <= len(items):
        return items[int(match.group(1)) - 1].code
    return source


def propose(header, first_rows=(), preset=""):
    """An unsaved `ColumnMapping` for a file with this header (its first rows help to
    spot rows to skip), by `preset` or the one recognised from the header."""
    preset = preset or recognise(header)
    read_name = _NAMES.get(preset, lambda name: _limesurvey(name) or _kobo(name))
    questions, items = _vocabulary()
    respondent = _find(header, "respondent", *_RESPONDENT_COLUMNS.get(preset, ()))
    country = _find(header, "country")
    sector = _find(header, "sector")
    fixed = {respondent, country, sector} - {""}
    targets = []
    for name in header:
        if name in fixed or not name:
            continue
        parts = read_name(name)
        if not parts:
            continue
        source_question, source_item, in_name = parts
        question = questions.get(source_question.lower())
        if question is None:
            targets.append(Target(name, source_question, source_item, in_name))
            continue
        code = _item_for(source_item, items.get(question.pk, []))
        targets.append(Target(name, question.code, code, in_name))
    if sector:
        targets = [Target(t.column, t.question, t.item, "") for t in targets]
    skip = 0
    if preset == "qualtrics" and respondent:
        index = header.index(respondent)
        for values in list(first_rows)[:2]:
            cell = values[index] if index < len(values) else ""
            if cell.startswith("{") or cell.replace(" ", "").lower() == "responseid":
                skip += 1
    return ColumnMapping(
        name=preset or "mapping",
        preset=preset,
        respondent_column=respondent,
        country_column=country,
        sector_column=sector,
        columns=format_targets(targets),
        answered=_DEFAULT_ANSWERED.get(preset, ColumnMapping.TICKED),
        skip_rows=skip,
    )


def resolve(mapping, header, first_rows=()):
    """The mapping to read a file with: a `ColumnMapping`, a saved mapping's name, a
    preset's name, or None (propose one from the header). Raises LookupError for a name
    that is neither saved nor a preset."""
    if isinstance(mapping, ColumnMapping):
        return mapping
    if mapping:
        saved = ColumnMapping.objects.filter(name=mapping).first()
        if saved is not None:
            return saved
        if mapping not in PRESETS:
            raise LookupError(mapping)
    return propose(header, first_rows, preset=mapping or "")


# --- Reading ---------------------------------------------------------------------------


@dataclass
class _Group:
    """The columns of one question (for one sector, when the columns carry it)."""

    question_id: int
    question: str
    sector: str
    shown: int | None = None
    shown_column: str = ""
    # (column index, column name, item id, item code, extra values read as ticked)
    cells: list = field(default_factory=list)


class Plan:
    """A mapping compiled against a file's header: column positions and vocabulary ids.

    Problems (a missing column, an unknown question or item) go to `errors` on the
    header's line, naming the column.
    """

    def __init__(self, mapping, header, header_line, vocabulary, errors):
        self.mapping = mapping
        self.width = len(header)
        self.ignored = []
        self.positions = {}
        positions = {}
        for index, name in enumerate(header):
            positions.setdefault(name, index)
            positions.setdefault(name.lower(), index)

        def position(name, what):
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
        self.respondent = mapping.respondent_column and position(
            mapping.respondent_column, _("the respondent")
        )
        self.country = mapping.country_column and position(mapping.country_column, _("the country"))
        self.sector = None
        if mapping.sector_column:
            self.sector = position(mapping.sector_column, _("the sector"))
        try:
            mapping.clean()
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                for message in messages:
                    errors.add(header_line, "", "", message)
            self.groups = []
            return
        targets, _problems = parse_targets(mapping.columns)
        labels = _item_labels()
        groups = {}
        for target in targets:
            index = position(target.column, f"{target.question}/{target.item}")
            question_id = vocabulary.questions.get(target.question)
            if index is None or question_id is None:
                continue
            item_id, problem = vocabulary.item(question_id, target.item)
            if problem:
                errors.add(header_line, target.column, target.item, problem)
                continue
            group = groups.get((question_id, target.sector))
            if group is None:
                group = groups[(question_id, target.sector)] = _Group(
                    question_id, target.question, target.sector
                )
            extra = labels.get(item_id, set()) | {target.item.lower()}
            group.cells.append((index, target.column, item_id, target.item, extra))
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
        answers = {}
        for value in split_values(mapping.no_values):
            answers[value] = False
        for value in split_values(mapping.yes_values):
            answers[value] = True
        for value, answer in list(answers.items()):
            answers[value.upper()] = answers[value.capitalize()] = answer
        self.answers = answers

    def answer(self, cell, extra):
        """True, False, or None when `cell` cannot be read."""
        answer = self.answers.get(cell)
        if answer is None:
            cleaned = cell.strip().lower()
            answer = self.answers.get(cleaned)
            if answer is None and cleaned in extra:
                answer = True
        return answer

    def unreadable(self):
        return _(
            "Cannot read this cell: ticked is %(yes)s (or the item's label), not ticked is "
            "%(no)s or blank."
        ) % {
            "yes": ", ".join(sorted(split_values(self.mapping.yes_values))),
            "no": ", ".join(sorted(split_values(self.mapping.no_values))),
        }


def _item_labels():
    """Each item's labels in every language, lowercased: a cell holding one reads ticked."""
    fields = [f"label_{code}" for code, _name in settings.LANGUAGES]
    labels = {}
    for row in Item.objects.values_list("pk", "code", *fields):
        labels[row[0]] = {value.strip().lower() for value in row[1:] if value}
    return labels


def read_wide_rows(rows, plan, *, wave_id, check_row, add, errors, progress=None, skipped=None):
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
    to_skip = mapping.skip_rows
    count = 0
    since_progress = 0
    for line, values in rows:
        if to_skip:
            to_skip -= 1
            continue
        count += 1
        since_progress += 1
        if progress and since_progress == 10000:
            progress(since_progress)
            since_progress = 0
        if len(values) != width:
            errors.add(
                line,
                "",
                ",".join(values),
                _("Expected %(expected)d fields, found %(found)d.")
                % {"expected": width, "found": len(values)},
            )
            continue
        row = check_row(
            line,
            values[i_respondent],
            values[i_country],
            values[i_sector] if i_sector is not None else None,
        )
        for group in groups:
            read = []
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
            sector = group.sector or row_sector
            if not answered:
                if skipped:
                    skipped(line, respondent, country, sector, group.question)
                continue
            for item_id, answer in read:
                add((line, wave_id, respondent, country, sector, item_id, answer))
    if progress and since_progress:
        progress(since_progress)
    return count


def first_rows(rows, count):
    """The first `count` rows of an iterator, and an iterator over all of them again."""
    head = list(islice(rows, count))
    return head, _chain(head, rows)


def _chain(head, rows):
    yield from head
    yield from rows


# --- Preview ---------------------------------------------------------------------------


@dataclass
class Preview:
    """What a file reads as, before anything is imported."""

    kind: str  # "long": the long format, no mapping needed; "wide": through `mapping`
    header: list
    mapping: ColumnMapping | None = None
    ignored: list = field(default_factory=list)  # columns the mapping does not read
    problems: list = field(default_factory=list)  # dicts: line, column, cell, value, message
    # One dict per (row, sector, question, item): line, respondent, country, sector,
    # question, item, answer ("yes", "no" or "" when the question was not answered).
    answers: list = field(default_factory=list)

    def as_dict(self):
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
                "respondent_column": mapping.respondent_column,
                "country_column": mapping.country_column,
                "sector_column": mapping.sector_column,
                "columns": mapping.columns,
                "answered": mapping.answered,
                "shown_columns": mapping.shown_columns,
                "yes_values": mapping.yes_values,
                "no_values": mapping.no_values,
                "skip_rows": mapping.skip_rows,
            },
            "ignored": self.ignored,
            "problems": self.problems,
            "answers": self.answers,
        }


def preview(source, *, mapping=None, rows=5):
    """Read the first `rows` rows of a file as answers, through `mapping` (a mapping, a
    saved mapping's or a preset's name, or None to propose one), writing nothing.
    Raises LookupError for an unknown mapping name."""
    from core.tables import TableError, open_table

    from .imports import _Errors, _finished_errors, _looks_long, _Vocabulary, row_checker

    errors = _Errors()
    try:
        table = open_table(source)
    except TableError as error:
        errors.add(error.line or 1, "", "", error.message)
        return Preview("wide", [], problems=errors.kept)
    with table:
        if mapping is None and _looks_long(table.header):
            return Preview("long", table.header)
        result = Preview("wide", table.header)
        try:
            head, all_rows = first_rows(iter(table), 3)
        except TableError as error:
            head, all_rows = [], iter(())
            errors.add(error.line, "", "", error.message)
        result.mapping = resolve(mapping, table.header, [values for _line, values in head])
        vocabulary = _Vocabulary(create_wave=False, create_items=False)
        plan = Plan(result.mapping, table.header, table.header_line, vocabulary, errors)
        result.ignored = plan.ignored
        codes = {
            cell[2]: (group.question, cell[3]) for group in plan.groups for cell in group.cells
        }
        by_question = {}
        for group in plan.groups:
            by_question.setdefault(group.question, []).extend(cell[3] for cell in group.cells)

        def add(row):
            line, _wave, respondent, country, sector, item_id, answer = row
            question, item = codes[item_id]
            result.answers.append(
                {
                    "line": line,
                    "respondent": respondent,
                    "country": country,
                    "sector": sector,
                    "question": question,
                    "item": item,
                    "answer": "yes" if answer else "no",
                }
            )

        def skipped(line, respondent, country, sector, question):
            for item in by_question.get(question, []):
                result.answers.append(
                    {
                        "line": line,
                        "respondent": respondent,
                        "country": country,
                        "sector": sector,
                        "question": question,
                        "item": item,
                        "answer": "",
                    }
                )

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
        result.problems = _finished_errors(errors.kept, table)
    return result
