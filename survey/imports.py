"""Import survey records from a CSV file, all or nothing.

The file has a header row with exactly these columns, in any order:
`wave,country,respondent,sector,question,item,answer` (see `COLUMNS`).

How it stays fast and small on a million rows: the file is read once, as a
stream; each row is checked against the vocabulary (kept in memory: a few hundred
codes) and the valid ones go to a temporary staging table, by COPY on PostgreSQL
and by batched inserts on SQLite. The checks that need the whole file (duplicates
inside it, a respondent given two countries, clashes with what is already stored)
are set-based queries on the staging table, and so is the write itself
(INSERT ... SELECT and UPDATE ... FROM). Each check that usually finds nothing is
first answered cheaply (a unique index, the file's respondents summarised, or, when
all of them are new, survey_response's own unique constraint during the write), and
only a file with problems pays for listing them. Python holds no per-row state, whatever
the size of the file. Everything runs in one transaction: any error, or a crash
half-way, leaves the database exactly as it was.

A bulk load (`bulk=True`, the `--bulk` option of `manage.py import_survey` and nothing
else: never chosen by size, never from a web request) on PostgreSQL drops survey_response's
foreign key to survey_respondent and its secondary indexes for the INSERT and creates them
again after: one join checks the key and one sort builds each index, instead of a check and
index updates per row. That takes ACCESS EXCLUSIVE locks on survey_response and
survey_respondent until COMMIT, so for the last seconds of such an import the survey's
record pages and API wait. The foreign keys to survey_sector and survey_item stay: dropping
them would lock those tables too, and the initiative pages and reports read them (an
initiative's sector, its tags). If another transaction holds one of the locked tables for
more than BULK_LOCK_TIMEOUT_MS, the import writes row by row instead, without the locks.
Every session setting the bulk path changes is put back.
"""

import csv
import io
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import reportcache
from core.csvfiles import FORMULA_TRIGGERS
from core.tables import TableError, open_table

from .models import Country, Item, Question, Response, Sector, Wave, code_validator

COLUMNS = ("wave", "country", "respondent", "sector", "question", "item", "answer")
MAX_ERRORS = 50
BATCH_SIZE = 20000
PROGRESS_EVERY = 10000
# A bulk load (see the module docstring and `_rebuilt_for_bulk`). Measured on 1M stored
# responses: 300k new ones load about as fast either way, 500k twice as fast rebuilt.
BULK_LOCK_TIMEOUT_MS = 5_000
# Tables a bulk load may lock: the survey's records, which no initiative page reads.
BULK_LOCKABLE = ("survey_response", "survey_respondent")

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


@dataclass
class ImportResult:
    """What an import did, or why it did nothing. Plain data, ready for JSON."""

    ok: bool = True
    errors: list = field(default_factory=list)  # dicts: line, column, cell, value, message
    error_count: int = 0
    rows: int = 0
    answers: int = 0
    respondents_created: int = 0
    responses_created: int = 0
    responses_unchanged: int = 0
    responses_replaced: int = 0
    waves_created: list = field(default_factory=list)
    items_created: list = field(default_factory=list)

    def as_dict(self):
        return asdict(self)

    def summary(self):
        """One line for people: the counts, or the number of problems."""
        if not self.ok:
            return ngettext(
                "Nothing was imported: %(count)d problem found.",
                "Nothing was imported: %(count)d problems found.",
                self.error_count,
            ) % {"count": self.error_count}
        rows = ngettext("%(rows)d row read", "%(rows)d rows read", self.rows) % {"rows": self.rows}
        respondents = ngettext(
            "%(count)d respondent created",
            "%(count)d respondents created",
            self.respondents_created,
        ) % {"count": self.respondents_created}
        responses = _(
            "responses: %(created)d created, %(unchanged)d unchanged, %(replaced)d replaced"
        ) % {
            "created": self.responses_created,
            "unchanged": self.responses_unchanged,
            "replaced": self.responses_replaced,
        }
        return f"{rows}: {respondents}; {responses}."


class _Errors:
    """Keeps the first errors in line order and counts all of them."""

    def __init__(self):
        self.kept = []
        self.count = 0

    def add(self, line, column, value, message):
        self.count += 1
        if len(self.kept) < MAX_ERRORS:
            self.kept.append(
                {"line": line, "column": column, "value": _shown(value), "message": str(message)}
            )

    def merge(self, others, count):
        """Add set-level errors (already limited) and their total."""
        self.count += count
        self.kept = sorted(self.kept + list(others), key=lambda e: (e["line"], e["column"]))[
            :MAX_ERRORS
        ]


def _shown(value):
    value = "" if value is None else str(value)
    return value if len(value) <= 200 else value[:199] + "…"


def unneutralise(value):
    """Undo `csvfiles.neutralise`: a `'` before a formula trigger is not part of the data."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def _wave_year(code):
    match = re.search(r"(19|20|21)\d\d", code)
    return int(match.group(0)) if match else None


class _Vocabulary:
    """The codes a file may use, loaded once; new waves and items made on demand."""

    def __init__(self, *, create_wave, create_items):
        self.create_wave = create_wave
        self.create_items = create_items
        self.waves = dict(Wave.objects.values_list("code", "pk"))
        self.countries = set(Country.objects.values_list("code", flat=True))
        self.sectors = {}
        for code in Sector.objects.values_list("code", flat=True):
            self.sectors[code] = code
            if code.isdigit():
                self.sectors[str(int(code))] = code
        self.questions = dict(Question.objects.values_list("code", "pk"))
        self.items = {
            (question, code): pk
            for pk, question, code in Item.objects.values_list("pk", "question_id", "code")
        }
        self.waves_created = []
        self.items_created = []
        self.refused = set()
        # Called before a wave or item is created: the staging COPY must end first.
        self.before_writing = lambda: None

    def wave(self, code):
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

    def item(self, question_id, code):
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


def _code_problem(code):
    if len(code) > _CODE_MAX:
        return _("A code has at most %(max)d characters.") % {"max": _CODE_MAX}
    try:
        code_validator(code)
    except ValidationError as exc:
        return " ".join(str(m) for m in exc.messages)
    return None


class _Staging:
    """The temporary table that holds the valid rows of the file."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"
        self.batch = []
        if self.postgres:
            # Rows go out as CSV text written by the csv module (C code), which costs a
            # fraction of formatting each value through the driver.
            self.buffer = io.StringIO()
            self.writer = csv.writer(self.buffer, lineterminator="\n")
            self.pending = 0
            # One COPY stays open from batch to batch, so that PostgreSQL stores a batch
            # while Python reads the next; it ends when a statement must run in between.
            self.copying = None

    def create(self):
        self.drop()
        self.cursor.execute(
            "CREATE TEMPORARY TABLE survey_import_staging ("
            "line bigint NOT NULL, wave_id bigint NOT NULL, respondent varchar(200) NOT NULL, "
            "country varchar(3) NOT NULL, sector varchar(2) NOT NULL, item_id bigint NOT NULL, "
            "answer boolean NOT NULL)"
        )
        # One row per respondent of the file: the lowest and the highest country it is
        # given (the same, unless the file gives it two).
        self.cursor.execute(
            "CREATE TEMPORARY TABLE survey_import_respondents ("
            "wave_id bigint NOT NULL, respondent varchar(200) NOT NULL, "
            "country varchar(3) NOT NULL, last_country varchar(3) NOT NULL)"
        )

    def add(self, row):
        if self.postgres:
            self.writer.writerow(row)
            self.pending += 1
            if self.pending >= BATCH_SIZE:
                self._send()
            return
        self.batch.append(row)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def _send(self):
        if self.copying is None:
            context = self.cursor.cursor.copy(
                "COPY survey_import_staging (line, wave_id, respondent, country, sector, "
                "item_id, answer) FROM STDIN WITH (FORMAT csv)"
            )
            self.copying = (context, context.__enter__())
        self.copying[1].write(self.buffer.getvalue())
        self.buffer.seek(0)
        self.buffer.truncate()
        self.pending = 0

    def flush(self):
        """Send the pending rows and end the COPY, so that the connection can run other
        statements (creating a new wave or item between rows, the checks after)."""
        if self.postgres:
            if self.pending:
                self._send()
            self.abandon()
            return
        if not self.batch:
            return
        self.cursor.executemany(
            "INSERT INTO survey_import_staging (line, wave_id, respondent, country, "
            "sector, item_id, answer) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            self.batch,
        )
        self.batch = []

    def abandon(self, error=None):
        """End the COPY in progress, if any; with `error`, PostgreSQL cancels it."""
        if self.postgres and self.copying is not None:
            context, self.copying = self.copying[0], None
            context.__exit__(type(error) if error else None, error, None)

    def summarise(self):
        """Fill the respondents' table; returns how many of them are already stored."""
        if self.postgres:
            # Without statistics the planner sorts the whole file to group it.
            self.cursor.execute("ANALYZE survey_import_staging")
        self.cursor.execute(
            "INSERT INTO survey_import_respondents (wave_id, respondent, country, last_country) "
            "SELECT wave_id, respondent, MIN(country), MAX(country) FROM survey_import_staging "
            "GROUP BY wave_id, respondent"
        )
        if self.postgres:
            self.cursor.execute("ANALYZE survey_import_respondents")
            # A wave imported moments ago is not in the planner's statistics yet; without
            # them the joins below run as nested loops over the whole table.
            self.cursor.execute("ANALYZE survey_respondent")
            self.cursor.execute("ANALYZE survey_response")
        self.cursor.execute(
            "SELECT COUNT(*) FROM survey_import_respondents g JOIN survey_respondent r "
            "ON r.wave_id = g.wave_id AND r.code = g.respondent"
        )
        return self.cursor.fetchone()[0]

    def index(self):
        """Index the staging table on its key; returns whether some key occurs twice.

        The joins with the stored records go through this key. It is built unique
        first: for the usual file, with no repeated row, that is the whole check for
        them, and the query that lists them is not needed.
        """
        try:
            with transaction.atomic():
                self.cursor.execute(
                    "CREATE UNIQUE INDEX survey_import_staging_key "
                    "ON survey_import_staging (wave_id, respondent, sector, item_id)"
                )
        except IntegrityError:
            self.cursor.execute(
                "CREATE INDEX survey_import_staging_key "
                "ON survey_import_staging (wave_id, respondent, sector, item_id)"
            )
            return True
        if self.postgres:
            self.cursor.execute("ANALYZE survey_import_staging")
        return False

    def drop(self):
        self.cursor.execute("DROP TABLE IF EXISTS survey_import_staging")
        self.cursor.execute("DROP TABLE IF EXISTS survey_import_respondents")


def _read_rows(table, rows, vocabulary, staging, errors, progress):
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
    iterator = rows
    rows = 0
    since_progress = 0
    while True:
        try:
            line, fields = next(iterator)
        except StopIteration:
            break
        except TableError as error:
            errors.add(error.line, "", "", error.message)
            break
        rows += 1
        since_progress += 1
        if since_progress == PROGRESS_EVERY:
            if progress:
                progress(since_progress)
            since_progress = 0
        if len(fields) != width:
            errors.add(
                line,
                "",
                ",".join(fields),
                _("Expected %(expected)d fields, found %(found)d.")
                % {"expected": width, "found": len(fields)},
            )
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
            # whole-file checks report everything in one go.
            add((line, wave_id, respondent, country, sector, item_id, answer))
    if progress and since_progress:
        progress(since_progress)
    return rows


def _respondent_problem(respondent):
    """Why `respondent` cannot be a respondent's code, or None."""
    if "\x00" in respondent:
        return _("A respondent code cannot contain a NUL character.")
    if len(respondent) > _RESPONDENT_MAX:
        return _("A respondent code has at most %(max)d characters.") % {"max": _RESPONDENT_MAX}
    if not respondent or respondent.isspace():
        return _("A respondent code is required.")
    return None


def row_checker(mapping, vocabulary, errors):
    """For a wide file's rows: check_row(line, respondent, country, sector) returns them
    cleaned, or None after adding their errors (the same messages as the long format)."""
    countries, sectors = vocabulary.countries, vocabulary.sectors

    def check_row(line, respondent, country, sector):
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


def _read_wide(table, rows, mapping, wave, vocabulary, staging, errors, progress, result):
    """A wide file through its mapping (see `mappings.py`). Returns the number of rows."""
    from .mappings import Plan, read_wide_rows

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
        return 0
    check_row = row_checker(mapping, vocabulary, errors)
    answers = 0

    def add(row):
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
    result.answers = answers
    return count


def _set_errors(cursor, sql, params, column, message_for):
    """Run a check that selects (line, value, detail) rows; returns (first rows, total)."""
    cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS problems", params)  # noqa: S608
    total = cursor.fetchone()[0]
    if not total:
        return [], 0
    cursor.execute(f"{sql} ORDER BY 1 LIMIT {MAX_ERRORS}", params)
    found = [
        {"line": line, "column": column, "value": _shown(value), "message": message_for(detail)}
        for line, value, detail in cursor.fetchall()
    ]
    return found, total


# A later row repeating (respondent, sector, item) of the same wave.
_REPEATED_ROWS = (
    "SELECT d.line, i.code AS value, d.first_line AS detail FROM ("
    "SELECT line, item_id, MIN(line) OVER (PARTITION BY wave_id, respondent, "
    "sector, item_id) AS first_line FROM survey_import_staging) AS d "
    "JOIN survey_item i ON i.id = d.item_id "
    "WHERE d.line <> d.first_line",
    "item",
    lambda first: (
        _("Duplicate of line %(line)s (same respondent, sector and item).") % {"line": first}
    ),
)


def _check_whole_file(cursor, errors, *, replace, known, repeats):
    """The checks that need every row at once, on the staging table.

    known: how many of the file's respondents are already stored; with none, the checks
    against the stored records have nothing to find.
    repeats: whether some row repeats another: True, False (the staging key could be
    indexed unique), or None (not indexed: if everything else is right, survey_response's
    unique constraint finds them during the write, see `_write`).
    """
    checks = [_REPEATED_ROWS] if repeats else []
    # Listing the rows that give a respondent another country sorts the whole file by
    # line: only done when the file's respondents show that there are any.
    cursor.execute("SELECT 1 FROM survey_import_respondents WHERE country <> last_country LIMIT 1")
    if cursor.fetchone():
        checks.append(
            (
                # The same respondent given another country than on its first row.
                "SELECT line, country AS value, first_country AS detail FROM ("
                "SELECT line, country, FIRST_VALUE(country) OVER (PARTITION BY wave_id, "
                "respondent ORDER BY line) AS first_country FROM survey_import_staging) AS c "
                "WHERE country <> first_country",
                "country",
                lambda first: (
                    _("This respondent is in %(country)s earlier in the file.") % {"country": first}
                ),
            )
        )
    if known:
        checks.append(
            (
                "SELECT s.line, s.country AS value, r.country_id AS detail "
                "FROM survey_import_staging s "
                "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
                "WHERE r.country_id <> s.country",
                "country",
                lambda stored: (
                    _("This respondent is already recorded in this wave for %(country)s.")
                    % {"country": stored}
                ),
            )
        )
    if known and not replace:
        checks.append(
            (
                "SELECT s.line, s.answer AS value, t.affirmative AS detail "
                "FROM survey_import_staging s "
                "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
                "JOIN survey_response t ON t.respondent_id = r.id AND t.sector_id = s.sector "
                "AND t.item_id = s.item_id WHERE t.affirmative <> s.answer",
                "answer",
                lambda stored: (
                    _(
                        "Already recorded with the answer %(answer)s; to change it, import "
                        "the file again choosing to replace recorded answers."
                    )
                    % {"answer": _("yes") if stored else _("no")}
                ),
            )
        )
    for sql, column, message_for in checks:
        found, total = _set_errors(cursor, sql, [], column, message_for)
        if total:
            # The stored answer comes back as 0/1 on SQLite: show it as people wrote it.
            for error in found:
                if column == "answer":
                    error["value"] = _("no") if error["value"] in ("0", "False") else _("yes")
            errors.merge(found, total)
    if repeats is None and errors.count:
        # There will be no write to find them: list them too, as for any refused file.
        errors.merge(*_set_errors(cursor, _REPEATED_ROWS[0], [], *_REPEATED_ROWS[1:]))


def _response_keys(cursor):
    """What a bulk load drops from survey_response and puts back: its foreign keys to the
    tables in BULK_LOCKABLE, and its indexes other than the primary key and the unique
    constraint.

    Returns (foreign keys, indexes, referenced tables): foreign keys as (name, definition),
    indexes as (name, CREATE INDEX statement), exactly as PostgreSQL holds them, so that
    they come back with the names and definitions the migrations gave them. The primary
    key stays (new ids only append to it), and so does the unique constraint (the rows go
    in its order, so that it is filled page by page; it also stays the last guard).
    """
    table = Response._meta.db_table
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), confrelid::regclass::text "
        "FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
        "AND confrelid::regclass::text = ANY(%s) ORDER BY conname",
        [table, list(BULK_LOCKABLE)],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT x.indexrelid::regclass::text, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT EXISTS ("
        "SELECT 1 FROM pg_constraint c WHERE c.conrelid = x.indrelid "
        "AND c.conindid = x.indexrelid) ORDER BY 1",
        [table],
    )
    indexes = cursor.fetchall()
    referenced = sorted({referenced for _name, _definition, referenced in foreign_keys})
    return [(name, definition) for name, definition, _ in foreign_keys], indexes, referenced


def _lock_exclusively(cursor, tables):
    """Lock `tables` ACCESS EXCLUSIVE; False if that takes over BULK_LOCK_TIMEOUT_MS."""
    cursor.execute("SHOW lock_timeout")
    previous = cursor.fetchone()[0]
    try:
        with transaction.atomic():
            cursor.execute(f"SET LOCAL lock_timeout = {int(BULK_LOCK_TIMEOUT_MS)}")
            cursor.execute(
                "LOCK TABLE "
                + ", ".join(connection.ops.quote_name(table) for table in tables)
                + " IN ACCESS EXCLUSIVE MODE"
            )
    except OperationalError:
        # A long transaction is reading one of them. Rather than wait, and make every
        # reader that comes after queue behind this import, load row by row.
        return False
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return True


@contextmanager
def _rebuilt_for_bulk(cursor, bulk):
    """Around the INSERT into survey_response: for a bulk load on PostgreSQL, drop the
    table's foreign key to survey_respondent and its secondary indexes before, and put
    them back after.

    Row by row, each new response queues its foreign-key checks (run at COMMIT) and
    updates every index; for a million rows that is most of the import's time. Adding a
    foreign key back checks the whole table in one join, and creating an index sorts
    once. The price is a lock: until COMMIT, survey_response and survey_respondent can be
    neither read nor written by anyone else. DDL is transactional, so a failure or a crash
    restores all of it.
    """
    if not bulk or connection.vendor != "postgresql":
        yield
        return
    foreign_keys, indexes, referenced = _response_keys(cursor)
    table = Response._meta.db_table
    if not _lock_exclusively(cursor, [table, *referenced]):
        yield
        return
    quoted = connection.ops.quote_name(table)
    # The checks still queued (for the respondents just created) run now: PostgreSQL
    # alters no table that has pending trigger events. Put back to deferred below.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
    for name, definition in foreign_keys:
        cursor.execute(
            f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
        )
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: the rest of the transaction
    # (an admin request goes on after the import) checks them at COMMIT again.
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _write(cursor, result, errors, *, replace, known, bulk):
    cursor.execute(
        # One country per respondent by now: the checks refused any file giving two.
        "INSERT INTO survey_respondent (wave_id, country_id, code) "
        "SELECT g.wave_id, g.country, g.respondent FROM survey_import_respondents g "
        "WHERE NOT EXISTS (SELECT 1 FROM survey_respondent r "
        "WHERE r.wave_id = g.wave_id AND r.code = g.respondent) "
        # The sort reads every row before the first is written. Without it, each probe of
        # the anti-join would scan the rows this very statement has added so far.
        "ORDER BY g.wave_id, g.respondent"
    )
    result.respondents_created = max(cursor.rowcount, 0)
    if connection.vendor == "postgresql" and result.respondents_created:
        # Fresh statistics, or the planner takes the new respondents for an empty table
        # and joins a million staged rows to them by nested loop.
        cursor.execute("ANALYZE survey_respondent")
    if known:
        cursor.execute(
            "SELECT COUNT(*) FROM survey_import_staging s "
            "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
            "JOIN survey_response t ON t.respondent_id = r.id AND t.sector_id = s.sector "
            "AND t.item_id = s.item_id WHERE t.affirmative = s.answer"
        )
        result.responses_unchanged = cursor.fetchone()[0]
    if known and replace:
        cursor.execute(
            "UPDATE survey_response SET affirmative = s.answer FROM survey_import_staging s "
            "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
            "WHERE survey_response.respondent_id = r.id "
            "AND survey_response.sector_id = s.sector AND survey_response.item_id = s.item_id "
            "AND survey_response.affirmative <> s.answer"
        )
        result.responses_replaced = max(cursor.rowcount, 0)
    if result.responses_unchanged or result.responses_replaced:
        # Drop the rows already stored from the staging table, so that the INSERT below
        # needs no anti-join against the very table it fills (the planner, seeing a
        # table that was empty, would rescan it for every row).
        cursor.execute(
            "DELETE FROM survey_import_staging WHERE EXISTS (SELECT 1 FROM survey_respondent r "
            "JOIN survey_response t ON t.respondent_id = r.id "
            "WHERE r.wave_id = survey_import_staging.wave_id "
            "AND r.code = survey_import_staging.respondent "
            "AND t.sector_id = survey_import_staging.sector "
            "AND t.item_id = survey_import_staging.item_id)"
        )
    try:
        with transaction.atomic(), _rebuilt_for_bulk(cursor, bulk):
            cursor.execute(
                "INSERT INTO survey_response (respondent_id, sector_id, item_id, affirmative) "
                "SELECT r.id, s.sector, s.item_id, s.answer FROM survey_import_staging s "
                "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
                # In the unique index's order: each index page is then filled once, in turn.
                "ORDER BY r.id, s.sector, s.item_id"
            )
            created = max(cursor.rowcount, 0)
    except IntegrityError:
        # When no respondent of the file was stored, the staging key is not indexed and
        # a row repeated in the file is found here, by the unique constraint: list them.
        found, total = _set_errors(cursor, _REPEATED_ROWS[0], [], *_REPEATED_ROWS[1:])
        if not total:
            raise
        errors.merge(found, total)
        return
    result.responses_created = created


def import_survey(
    source,
    *,
    mapping=None,
    wave=None,
    create_wave=False,
    create_items=False,
    replace=False,
    progress=None,
    bulk=False,
):
    """Import a survey file, CSV or XLSX; returns an `ImportResult`.

    source: a path, or a binary or text file object (an upload, `open(path, "rb")`).
    mapping: for a wide file (`mappings.py`), a `ColumnMapping`, a saved mapping's name or
    a preset's name. Without one, a file with the long format's columns is read as such,
    and any other file through the mapping proposed from its header.
    wave: the wave's code, for a wide file (it has no wave column).
    create_wave, create_items: allow codes the database does not know yet.
    replace: a row whose answer differs from the stored one replaces it (else an error).
    progress: called with the number of rows read since the last call.
    bulk: rebuild survey_response's keys around the write (see the module docstring); for
    the management command's `--bulk` only, never for an upload through the site or API.

    All or nothing: with any error, nothing is written (not even a new wave or item).
    """
    from .mappings import first_rows, resolve

    result = ImportResult()
    errors = _Errors()
    try:
        table = open_table(source)
    except TableError as error:
        errors.add(error.line or 1, "", "", error.message)
        return _finished(result, errors, None)
    rows = iter(table)
    renames = {}
    if mapping is not None or not _looks_long(table.header):
        try:
            head, rows = first_rows(rows, 3)
            mapping = resolve(mapping, table.header, [values for _line, values in head])
        except TableError as error:
            errors.add(error.line, "", "", error.message)
        except LookupError:
            errors.add(
                table.header_line,
                "",
                mapping,
                _("No saved mapping and no preset is named “%(name)s”.") % {"name": mapping},
            )
        if errors.count:
            table.close()
            return _finished(result, errors, table)
        renames = {
            "respondent": mapping.respondent_column,
            "country": mapping.country_column,
            "sector": mapping.sector_column,
        }
    return _import_rows(
        table,
        rows,
        result,
        errors,
        mapping=mapping,
        wave=wave,
        create_wave=create_wave,
        create_items=create_items,
        replace=replace,
        progress=progress,
        renames=renames,
        bulk=bulk,
    )


# Any two survey imports, whatever their door, run one after the other (jobs also queue
# behind one another, see jobs.py): they write the same tables, and a large one locks them.
_IMPORT_LOCK_KEY = 0x636F_7072  # "copr"


def _one_import_at_a_time():
    """On PostgreSQL, wait for any other import to end; released at COMMIT or ROLLBACK (or
    when the connection dies). SQLite lets one writer in at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])


def _looks_long(header):
    """Whether a header is meant as the long format (even with a column misspelt)."""
    return bool({name.lower() for name in header} & {"wave", "question", "item", "answer"})


def _import_rows(
    table,
    rows,
    result,
    errors,
    *,
    mapping,
    wave,
    create_wave,
    create_items,
    replace,
    progress,
    renames,
    bulk,
):
    """The import proper, in one transaction (see `import_survey`)."""
    try:
        try:
            with transaction.atomic():
                _one_import_at_a_time()
                vocabulary = _Vocabulary(create_wave=create_wave, create_items=create_items)
                with connection.cursor() as cursor:
                    staging = _Staging(cursor)
                    staging.create()
                    vocabulary.before_writing = staging.flush
                    try:
                        if mapping is None:
                            result.rows = _read_rows(
                                table, rows, vocabulary, staging, errors, progress
                            )
                            result.answers = result.rows
                        else:
                            result.rows = _read_wide(
                                table,
                                rows,
                                mapping,
                                wave,
                                vocabulary,
                                staging,
                                errors,
                                progress,
                                result,
                            )
                    except BaseException as error:
                        staging.abandon(error)
                        raise
                    staging.flush()
                    known = 0
                    if result.answers:
                        known = staging.summarise()
                        # Only the joins with stored records need the staging key indexed.
                        # Without any, every row is new, and survey_response's unique
                        # constraint finds a repeated one during the write.
                        repeats = staging.index() if known else None
                        _check_whole_file(
                            cursor, errors, replace=replace, known=known, repeats=repeats
                        )
                    if not errors.count:
                        _write(cursor, result, errors, replace=replace, known=known, bulk=bulk)
                    if errors.count:
                        result.respondents_created = result.responses_created = 0
                        result.responses_unchanged = result.responses_replaced = 0
                    else:
                        result.waves_created = vocabulary.waves_created
                        result.items_created = vocabulary.items_created
                        # Written in bulk, without signals: cached reports start over.
                        reportcache.data_changed()
                    staging.drop()
                if errors.count:
                    transaction.set_rollback(True)
        except IntegrityError:
            # Another import stored some of the same records while this one ran: both saw
            # them missing, and the unique constraints let only the first in. Nothing of this
            # file is kept; run again, it finds what the other one stored.
            result, errors = ImportResult(), _Errors()
            errors.add(
                1,
                "",
                "",
                _(
                    "Another import stored some of these records at the same moment, so "
                    "nothing of this file was saved. Import it again: the records already "
                    "stored are then recognised."
                ),
            )
    finally:
        table.close()
    return _finished(result, errors, table, renames)


def _finished_errors(errors, table, renames=None):
    """`errors` with the file's column names, and each cell's address in a sheet."""
    for error in errors:
        column = error["column"] = (renames or {}).get(error["column"]) or error["column"]
        index = table.header.index(column) if table and column in table.header else None
        error["cell"] = (table.address(error["line"], index) if index is not None else None) or ""
    return errors


def _finished(result, errors, table, renames=None):
    """Put the errors into the result; in a sheet, each with its cell's address.

    renames: for a wide file, the file's own name of the respondent, country and sector
    columns, which the checks on the whole file call by their long-format names.
    """
    result.errors = _finished_errors(errors.kept, table, renames)
    result.error_count = errors.count
    result.ok = not errors.count
    return result
