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
propose a mapping (`propose`); staff confirm or correct it after a `preview`
(`widefiles.py`, which reads the files through a mapping).
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

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

    def line(self) -> str:
        text = f"{self.column} = {self.question}"
        if self.item:
            text += f"/{self.item}"
        if self.sector:
            text += f" @ {self.sector}"
        return text


_TARGET = re.compile(
    r"^(?P<question>[^\s/@]+)(?:\s*/\s*(?P<item>[^\s/@]+))?(?:\s*@\s*(?P<sector>\S+))?$"
)


def sector_code(text: str) -> str | None:
    """`03` for `3`, `03`, `s3`, `sector_03`, `cofog03`; None if `text` names no sector."""
    match = re.fullmatch(r"(?:sector|cofog|s)?[_-]?(\d{1,2})", text.strip(), re.IGNORECASE)
    if not match or not 1 <= int(match.group(1)) <= 10:
        return None
    return f"{int(match.group(1)):02d}"


def parse_targets(
    text: str, *, with_items: bool = True
) -> tuple[list[Target], list[tuple[int, str]]]:
    """The `column = question/item [@ sector]` lines of `text`: (targets, problems), each
    problem a (line number, message) pair. Blank lines and `#` comments are skipped."""
    targets: list[Target] = []
    problems: list[tuple[int, str]] = []
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
            code = sector_code(match.group("sector"))
            if code is None:
                problems.append((number, _("Unknown sector: use a COFOG code 01 to 10.")))
                continue
            sector = code
        item = match.group("item") or ""
        if with_items and not item:
            problems.append((number, _("Name the item: “question/item”.")))
            continue
        if not with_items and item:
            problems.append((number, _("A “question shown” column names a question, no item.")))
            continue
        targets.append(Target(column.strip(), match.group("question"), item, sector))
    return targets, problems


def format_targets(targets: Iterable[Target]) -> str:
    return "\n".join(target.line() for target in targets)


def check_mapping(mapping: ColumnMapping) -> None:
    """The model's `clean()`: raise a ValidationError naming each field's problems."""
    problems: dict[str, list[str]] = {}

    def add(field_name: str, message: str) -> None:
        problems.setdefault(field_name, []).append(message)

    questions = set(Question.objects.values_list("code", flat=True))
    targets, parse_problems = parse_targets(mapping.columns or "")
    for number, message in parse_problems:
        add("columns", _("Line %(line)d: %(message)s") % {"line": number, "message": message})
    if not targets and not parse_problems:
        add("columns", _("List at least one answer column."))
    seen_columns: set[str] = set()
    seen_targets: set[tuple[str, str, str]] = set()
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


def split_values(text: str | None) -> set[str]:
    return {value.strip().lower() for value in (text or "").split(",") if value.strip()}


# --- Presets ---------------------------------------------------------------------------


#: A column name read by a preset: (question, item, sector or ""), or None.
ColumnName = tuple[str, str, str] | None


def _limesurvey(name: str) -> ColumnName:
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


def _kobo(name: str) -> ColumnName:
    if name.startswith("_") or "/" not in name:
        return None
    parts = [part for part in name.split("/") if part]
    if len(parts) < 2:
        return None
    sector = next((code for part in parts[:-2] if (code := sector_code(part))), "")
    return parts[-2], parts[-1], sector


def _qualtrics(name: str) -> ColumnName:
    match = re.fullmatch(r"(?:(\d{1,2})_)?([A-Za-z][A-Za-z0-9]*)_(\d+)", name)
    if not match:
        return None
    sector: str | None = ""
    if match.group(1):
        sector = sector_code(match.group(1))
        if sector is None:
            return None
    return match.group(2), match.group(3), sector or ""


_NAMES: dict[str, Callable[[str], ColumnName]] = {
    "limesurvey": _limesurvey,
    "kobo": _kobo,
    "qualtrics": _qualtrics,
}


def _find(header: Sequence[str], *names: str) -> str:
    """The header's column named like one of `names` (any case), or ""."""
    lowered = {column.lower(): column for column in header}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return ""


def recognise(header: Sequence[str]) -> str:
    """The preset whose naming convention matches most columns of `header`, or ""."""
    best, best_score = "", 0
    for preset in PRESETS:
        score = sum(1 for name in header if _NAMES[preset](name))
        if score and _find(header, *_RESPONDENT_COLUMNS[preset]):
            score += 1
        if score > best_score:
            best, best_score = preset, score
    return best


def _vocabulary() -> tuple[dict[str, Question], dict[int, list[Item]]]:
    questions = {q.code.lower(): q for q in Question.objects.all()}
    items: dict[int, list[Item]] = {}
    for item in Item.objects.order_by("question_id", "order", "code"):
        items.setdefault(item.question_id, []).append(item)
    return questions, items


def _item_for(source: str, items: Sequence[Item]) -> str:
    """The coprod item a tool's option code stands for: the same code, or, for a numbered
    option (`2`, `SQ002`, `A2`), the item in that position."""
    for item in items:
        if item.code.lower() == source.lower():
            return item.code
    match = re.fullmatch(r"(?:SQ|A|_)?0*(\d+)", source, re.IGNORECASE)
    if match and 1 <= int(match.group(1)) <= len(items):
        return items[int(match.group(1)) - 1].code
    return source


def propose(
    header: Sequence[str], first_rows: Iterable[Sequence[str]] = (), preset: str = ""
) -> ColumnMapping:
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


def resolve(
    mapping: ColumnMapping | str | None,
    header: Sequence[str],
    first_rows: Iterable[Sequence[str]] = (),
) -> ColumnMapping:
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
