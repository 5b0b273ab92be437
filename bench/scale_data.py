"""Synthetic data at national scale, for the benchmarks (`manage.py generate_scale_data`).

    python manage.py generate_scale_data --initiatives 100000 --responses 1000000 --seed 1

Rows are written in bulk (COPY on PostgreSQL, batched INSERTs elsewhere) rather than through
`initiatives.services`, which would take hours at this size. The rules the services keep are
kept here by construction instead: references continue each year's `ReferenceSequence` (so a
later `initiative_create` does not collide), every stage history starts with the creation entry
and ends at the current stage with dates in order, each tag list draws from its own survey
question, and the survey records respect "one answer per respondent, sector and item".

The same seed on the same starting database gives the same rows. Historical (audit) tables are
left empty: they record edits made by people, and nobody edited this data.

The module is a little over 600 lines because it is one generator: every table it fills must
agree with the others (references, stage histories, tags, survey answers), and splitting it
would scatter those invariants.
"""

import datetime
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from core import reportcache
from initiatives.models import (
    AccountabilityFramework,
    Activity,
    ActivityKind,
    BudgetFramework,
    EvidenceLevel,
    Initiative,
    Level,
    Membership,
    Organisation,
    OrganisationKind,
    Participation,
    ParticipationLevel,
    PartnerType,
    Phase,
    ReferenceSequence,
    ReviewStatus,
    Stage,
    StageChange,
)
from initiatives.roles import CASE_OFFICER
from survey.models import Country, Item, Respondent, Response, Sector, Wave

# The OECD members, where the survey was run; initiatives and respondents come from these.
OECD = (
    "AUS AUT BEL CAN CHL COL CRI CZE DNK EST FIN FRA DEU GRC HUN ISL IRL ISR ITA JPN KOR LVA LTU "
    "LUX MEX NLD NZL NOR POL PRT SVK SVN ESP SWE CHE TUR GBR USA"
).split()
EURO = set("AUT BEL EST FIN FRA DEU GRC IRL ITA LVA LTU LUX NLD PRT SVK SVN ESP".split())
CURRENCY = {
    "AUS": "AUD", "CAN": "CAD", "CHL": "CLP", "COL": "COP", "CRI": "CRC", "CZE": "CZK",
    "DNK": "DKK", "HUN": "HUF", "ISL": "ISK", "ISR": "ILS", "JPN": "JPY", "KOR": "KRW",
    "MEX": "MXN", "NZL": "NZD", "NOR": "NOK", "POL": "PLN", "SWE": "SEK", "CHE": "CHF",
    "TUR": "TRY", "GBR": "GBP", "USA": "USD",
}  # fmt: skip

STAGE_WEIGHTS = {Stage.PLANNED: 20, Stage.PILOT: 40, Stage.EMBEDDED: 28, Stage.DISCONTINUED: 12}
REVIEW_WEIGHTS = {
    ReviewStatus.PUBLISHED: 70,
    ReviewStatus.DRAFT: 12,
    ReviewStatus.SUBMITTED: 10,
    ReviewStatus.RETURNED: 8,
}
# The paths through the stages that end at each current stage ("" is the creation entry).
PATHS = {
    Stage.PLANNED: [[Stage.PLANNED]],
    Stage.PILOT: [[Stage.PLANNED, Stage.PILOT], [Stage.PILOT]],
    Stage.EMBEDDED: [
        [Stage.PLANNED, Stage.PILOT, Stage.EMBEDDED],
        [Stage.PILOT, Stage.EMBEDDED],
        [Stage.PLANNED, Stage.EMBEDDED],
    ],
    Stage.DISCONTINUED: [
        [Stage.PLANNED, Stage.PILOT, Stage.DISCONTINUED],
        [Stage.PILOT, Stage.DISCONTINUED],
        [Stage.PLANNED, Stage.DISCONTINUED],
        [Stage.PILOT, Stage.EMBEDDED, Stage.DISCONTINUED],
    ],
}
# How often each survey item is ticked, near the shares the OECD published (docs/DOMAIN.md).
TICK_RATE = {
    "involvement": 0.6, "quality": 0.6, "costs": 0.23, "satisfaction": 0.5,
    "resources": 0.42, "resistance": 0.36, "incentives": 0.31, "evidence": 0.29,
    "leadership": 0.8, "engagement": 0.75, "frameworks": 0.73, "skills": 0.5,
}  # fmt: skip

SERVICES = [
    "neighbourhood safety walks", "diabetes self-management", "home care planning",
    "youth mentoring", "school meals", "community gardens", "library volunteers",
    "flood watch", "recycling ambassadors", "parent peer support", "mental health recovery",
    "elderly befriending", "bus route design", "park maintenance", "tenant-run housing",
    "adult literacy", "job coaching", "disability personal budgets", "street lighting audit",
    "local health panels", "carers' network", "fire safety visits", "digital skills cafe",
    "refugee welcome", "after-school clubs", "water quality monitoring",
]  # fmt: skip
OPENERS = ["Co-designed", "Citizen-led", "Shared", "Community", "Peer-run", "Neighbourhood"]
PLACES = [
    "Helsinki", "Tampere", "Leeds", "Bristol", "Ottawa", "Halifax", "Bergen", "Tromsø",
    "Denver", "Austin", "Lyon", "Québec", "Gent", "Utrecht", "Kraków", "Porto", "Graz",
    "Aarhus", "Malmö", "Wellington", "Cork", "Bilbao", "Brno", "Tartu", "Kaunas",
]  # fmt: skip
SENTENCES = [
    "Residents and professionals meet every month to plan the next steps.",
    "Service users set the priorities and staff adapt the delivery.",
    "A community group runs the day-to-day work with support from the agency.",
    "Volunteers contribute their time, knowledge and local contacts.",
    "The pilot is evaluated with the university and the users themselves.",
    "Budgets are partly transferred to users, who choose their own support.",
    "Results are reported to the council every quarter.",
    "Staff received training in facilitation and shared decision-making.",
    "Les habitants participent à la conception du service.",
    "=Costs are shared between the municipality and the association.",
]  # fmt: skip


def generated_models():
    """The tables written, parents before children."""
    return [
        get_user_model(),
        Organisation,
        Membership,
        Initiative,
        Participation,
        AccountabilityFramework,
        BudgetFramework,
        StageChange,
        Activity,
        Initiative.objectives.through,
        Initiative.barriers.through,
        Initiative.barriers_addressed.through,
        Initiative.factors.through,
        Respondent,
        Response,
    ]


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Table:
    """A model's table with its columns in order, turning dicts into rows."""

    def __init__(self, model):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.name = model._meta.db_table
        self.columns = [f.column for f in self.fields]
        self._keys = [f.attname for f in self.fields]
        self._defaults = [f.get_default() for f in self.fields]

    def row(self, values):
        return tuple([values.get(k, d) for k, d in zip(self._keys, self._defaults, strict=True)])


@dataclass
class Vocabulary:
    countries: list
    sectors: list
    items: dict  # question code -> [(item id, item code)]

    @classmethod
    def load(cls):
        present = set(Country.objects.filter(code__in=OECD).values_list("code", flat=True))
        items = {}
        for item_id, code, question in Item.objects.order_by(
            "question__order", "order", "code"
        ).values_list("pk", "code", "question__code"):
            items.setdefault(question, []).append((item_id, code))
        missing = {"reasons", "barriers", "factors"} - set(items)
        if missing or not present:
            raise ValueError(
                "The survey vocabulary is not seeded (run `manage.py migrate` first); "
                f"missing: {', '.join(sorted(missing)) or 'countries'}."
            )
        return cls(
            countries=[c for c in OECD if c in present],
            sectors=list(Sector.objects.order_by("code").values_list("code", flat=True)),
            items=items,
        )


@dataclass
class Plan:
    """What to generate and where numbering starts, so that generation needs no database."""

    seed: int
    initiatives: int
    responses: int
    vocabulary: Vocabulary
    first_ids: dict  # model -> first free primary key
    sequences: dict  # year -> last reference handed out
    wave_ids: list = field(default_factory=list)
    until: datetime.date = datetime.date(2026, 6, 30)
    chunk: int = 2000


class Generator:
    """Produces the rows, table by table, in chunks; deterministic for a plan."""

    def __init__(self, plan):
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.ids = dict(plan.first_ids)
        self.tables = {model: Table(model) for model in generated_models()}
        self.last_reference = dict(plan.sequences)

    def _next_id(self, model):
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    def _add(self, out, model, values):
        values.setdefault("id", self._next_id(model))
        out.setdefault(model, []).append(self.tables[model].row(values))
        return values["id"]

    def _moment(self, day):
        seconds = self.rng.randrange(8 * 3600, 18 * 3600)
        return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC) + (
            datetime.timedelta(seconds=seconds)
        )

    def people(self):
        """Case officers, organisations and their members."""
        rng, out = self.rng, {}
        User = get_user_model()
        n = self.plan.initiatives
        joined = self._moment(datetime.date(2014, 6, 1))
        self.officers = []
        for _ in range(max(3, n // 2000)):
            uid = self.ids[User]
            self.officers.append(
                self._add(
                    out,
                    User,
                    {
                        "username": f"scale-officer-{uid}",
                        "email": f"officer{uid}@scale.example.org",
                        "password": "!synthetic",  # unusable: nobody signs in as these
                        "is_staff": True,
                        "is_active": True,
                        "is_superuser": False,
                        "date_joined": joined,
                    },
                )
            )
        self.organisations = []  # (id, kind, country, member user ids)
        kinds = list(OrganisationKind.values)
        for _ in range(max(5, n // 20)):
            oid = self.ids[Organisation]
            country = rng.choice(self.plan.vocabulary.countries)
            kind = rng.choice(kinds)
            place = rng.choice(PLACES)
            self._add(
                out,
                Organisation,
                {
                    "name": f"{place} {kind.replace('_', ' ')} {oid}",
                    "kind": kind,
                    "country_id": country,
                    "contact_name": f"Contact {oid}",
                    "contact_email": f"contact{oid}@scale.example.org",
                    "verified": rng.random() < 0.4,
                    "created_at": joined,
                },
            )
            members = []
            for position in range(rng.randint(1, 3)):
                uid = self.ids[User]
                members.append(
                    self._add(
                        out,
                        User,
                        {
                            "username": f"scale-member-{uid}",
                            "email": f"member{uid}@scale.example.org",
                            "password": "!synthetic",
                            "is_staff": False,
                            "is_active": True,
                            "is_superuser": False,
                            "date_joined": joined,
                        },
                    )
                )
                self._add(
                    out,
                    Membership,
                    {
                        "user_id": members[-1],
                        "organisation_id": oid,
                        "role": Membership.Role.ADMIN if position == 0 else Membership.Role.MEMBER,
                        "status": Membership.Status.ACTIVE,
                        "created_at": joined,
                    },
                )
            self.organisations.append((oid, kind, country, members))
        return out

    def initiative_chunks(self):
        """Initiatives in creation order, each with its parts, `chunk` at a time."""
        plan, rng = self.plan, self.rng
        start = datetime.date(2015, 1, 1).toordinal()
        span = plan.until.toordinal() - 30 - start
        # Created in date order, so references and ids grow together as they would in life.
        days = sorted(start + rng.randrange(span) for _ in range(plan.initiatives))
        out = {}
        for index, ordinal in enumerate(days, start=1):
            self._initiative(out, datetime.date.fromordinal(ordinal))
            if index % plan.chunk == 0:
                yield out
                out = {}
        if out:
            yield out

    def _initiative(self, out, created_on):
        rng, plan, vocab = self.rng, self.plan, self.plan.vocabulary
        year = created_on.year
        self.last_reference[year] = self.last_reference.get(year, 0) + 1
        reference = f"COP-{year}-{self.last_reference[year]:04d}"
        created_at = self._moment(created_on)
        stage = _weighted(rng, STAGE_WEIGHTS)
        review = _weighted(rng, REVIEW_WEIGHTS)
        owner = rng.choice(self.organisations) if rng.random() < 0.85 else None
        country = owner[2] if owner and rng.random() < 0.9 else rng.choice(vocab.countries)
        author = rng.choice(owner[3]) if owner else rng.choice(self.officers)
        officer = rng.choice(self.officers) if rng.random() < 0.8 else None
        service = rng.choice(SERVICES)
        place = rng.choice(PLACES)

        # The stage history: dated, in order, never in the future, ending at `stage`.
        path = rng.choice(PATHS[stage])
        day, changes = created_on, []
        for position, to_stage in enumerate(path):
            if position:
                day = min(plan.until, day + datetime.timedelta(days=rng.randint(20, 700)))
            changes.append((path[position - 1] if position else "", to_stage, day))
        last_day = changes[-1][2]
        updated_at = self._moment(
            min(plan.until, last_day + datetime.timedelta(rng.randint(0, 60)))
        )
        updated_at = max(updated_at, created_at)
        start_date = min(plan.until, created_on + datetime.timedelta(days=rng.randint(0, 200)))
        end_date = last_day if stage == Stage.DISCONTINUED and last_day >= start_date else None

        values = {
            "reference": reference,
            "title": f"{rng.choice(OPENERS)} {service} in {place}",
            "summary": " ".join(rng.sample(SENTENCES, 2)),
            "description": " ".join(rng.sample(SENTENCES, rng.randint(3, 6))),
            "country_id": country,
            "sector_id": rng.choice(vocab.sectors),
            "level": rng.choice(Level.values),
            "lead_public_body": f"{place} {rng.choice(['council', 'health board', 'police'])}",
            "organisation_id": owner[0] if owner else None,
            "case_officer_id": officer,
            "review_status": review,
            "return_reason": "Please add the budget framework." if review == "returned" else "",
            "stage": stage,
            "start_date": start_date,
            "end_date": end_date,
            "participants": rng.randint(3, 5000),
            "created_by_id": author,
            "updated_by_id": author,
            "created_at": created_at,
            "updated_at": updated_at,
            "submitted_at": updated_at if review != ReviewStatus.DRAFT else None,
            "published_at": updated_at if review == ReviewStatus.PUBLISHED else None,
            "archived_at": updated_at if rng.random() < 0.01 else None,
            "version": 1 + len(changes) + rng.randint(0, 4),
        }
        iid = self._add(out, Initiative, values)

        for from_stage, to_stage, on in changes:
            self._add(
                out,
                StageChange,
                {
                    "initiative_id": iid,
                    "from_stage": from_stage,
                    "to_stage": to_stage,
                    "changed_on": on,
                    "changed_at": self._moment(on) if from_stage else created_at,
                    "changed_by_id": rng.choice(self.officers) if from_stage else author,
                    "reason": "Initiative recorded."
                    if not from_stage
                    else "Reviewed by the board.",
                },
            )
            if from_stage:  # the service writes a timeline entry for every move
                self._activity(out, iid, ActivityKind.STAGE, on, f"{from_stage} → {to_stage}")
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice([ActivityKind.NOTE, ActivityKind.MEETING, ActivityKind.CONTACT])
            on = min(plan.until, created_on + datetime.timedelta(days=rng.randint(0, 900)))
            self._activity(out, iid, kind, on, rng.choice(SENTENCES))
        if review != ReviewStatus.DRAFT:
            self._activity(out, iid, ActivityKind.REVIEW, updated_at.date(), "Submitted.")

        cells = rng.sample(
            [(p, t) for p in Phase.values for t in PartnerType.values], rng.randint(1, 6)
        )
        for phase, partner_type in sorted(cells):
            group = partner_type in (PartnerType.CSO, PartnerType.COMMUNITY_GROUP)
            self._add(
                out,
                Participation,
                {
                    "initiative_id": iid,
                    "phase": phase,
                    "partner_type": partner_type,
                    "organisation_id": rng.choice(self.organisations)[0] if group else None,
                    "level": rng.choice(ParticipationLevel.values),
                    "role": f"Takes part in {phase}.",
                },
            )

        items = vocab.items
        barriers = rng.sample(items["barriers"], rng.randint(0, 3))
        tags = {
            Initiative.objectives.through: rng.sample(items["reasons"], rng.randint(1, 3)),
            Initiative.barriers.through: barriers,
            Initiative.barriers_addressed.through: rng.sample(
                barriers, rng.randint(0, len(barriers))
            ),
            Initiative.factors.through: rng.sample(items["factors"], rng.randint(0, 4)),
        }
        for through, chosen in tags.items():
            for item_id, _code in sorted(chosen):
                self._add(out, through, {"initiative_id": iid, "item_id": item_id})

        if rng.random() < 0.65:
            self._add(
                out,
                AccountabilityFramework,
                {
                    "initiative_id": iid,
                    "accountable_body": values["lead_public_body"],
                    "reporting_line": "Director of services",
                    "reporting_frequency": rng.choice(["monthly", "quarterly", "yearly"]),
                    "roles_written": rng.random() < 0.55,
                    "risk_arrangements": "Risk register reviewed quarterly.",
                },
            )
        if rng.random() < 0.6:
            costs = Decimal(rng.randint(1_000, 2_000_000))
            self._add(
                out,
                BudgetFramework,
                {
                    "initiative_id": iid,
                    "amount": costs,
                    "currency": "EUR" if country in EURO else CURRENCY.get(country, "USD"),
                    "funding_sources": "Municipal budget; foundation grant.",
                    "funded_beyond_pilot": rng.random() < 0.4,
                    "resources_transferred": (transferred := rng.random() < 0.2),
                    "transferred_amount": (costs / 4).quantize(Decimal("0.01"))
                    if transferred
                    else None,
                    "citizen_hours": Decimal(rng.randint(0, 20_000))
                    if rng.random() < 0.7
                    else None,
                    "estimated_costs": costs if rng.random() < 0.6 else None,
                    "estimated_benefits": Decimal(rng.randint(0, 4_000_000))
                    if rng.random() < 0.45
                    else None,
                    "evidence_level": rng.choice(["", *EvidenceLevel.values]),
                },
            )

    def _activity(self, out, iid, kind, on, text):
        self._add(
            out,
            Activity,
            {
                "initiative_id": iid,
                "kind": kind,
                "date": on,
                "author_id": self.rng.choice(self.officers),
                "text": text,
                "file": "",
                "created_at": self._moment(on),
            },
        )

    def survey_chunks(self):
        """Respondents and their answers, spread over the waves, exactly `responses` of them."""
        plan, rng, vocab = self.plan, self.rng, self.plan.vocabulary
        waves = plan.wave_ids
        # Later waves reached more respondents.
        weights = list(range(1, len(waves) + 1))
        questions = [vocab.items[q] for q in ("reasons", "barriers", "factors")]
        remaining, out, pending = plan.responses, {}, 0
        while remaining > 0:
            wave = rng.choices(waves, weights=weights)[0]
            rid = self.ids[Respondent]
            country = rng.choice(vocab.countries)
            self._add(
                out,
                Respondent,
                {"wave_id": wave, "country_id": country, "code": f"R{rid:08d}"},
            )
            bias = rng.uniform(-0.1, 0.1)  # countries and respondents differ a little
            for sector in sorted(rng.sample(vocab.sectors, rng.randint(1, 5))):
                for items in questions:
                    if remaining <= 0 or rng.random() < 0.1:
                        continue  # some pairs skip a question: they are not in its denominator
                    for item_id, code in items[:remaining]:
                        self._add(
                            out,
                            Response,
                            {
                                "respondent_id": rid,
                                "sector_id": sector,
                                "item_id": item_id,
                                "affirmative": rng.random() < TICK_RATE.get(code, 0.5) + bias,
                            },
                        )
                    remaining -= min(len(items), remaining)
                    pending += len(items)
            if pending >= plan.chunk * 25 or remaining <= 0:
                yield out
                out, pending = {}, 0


class Loader:
    """Writes rows into a table: COPY on PostgreSQL, batched INSERTs elsewhere."""

    def __init__(self, using=connection):
        self.connection = using
        self.copy = using.vendor == "postgresql"
        self.counts = {}

    def write(self, table, rows):
        if not rows:
            return
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        with self.connection.cursor() as cursor:
            if self.copy:
                with cursor.cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        # JSON columns (a timeline entry's event details) go in as JSON text.
                        copy.write_row(
                            [json.dumps(v) if isinstance(v, dict | list) else v for v in row]
                        )
            else:
                marks = ", ".join(["%s"] * len(table.columns))
                prepared = [
                    [
                        f.get_db_prep_save(value, self.connection)
                        for f, value in zip(table.fields, row, strict=True)
                    ]
                    for row in rows
                ]
                sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"
                for start in range(0, len(prepared), 2000):
                    cursor.executemany(sql, prepared[start : start + 2000])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)


def first_free_ids(models):
    return {model: (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1 for model in models}


def generate(*, initiatives, responses, seed, waves, analyze=True):
    """Write the rows; return {table: rows written}. Raises ValueError on bad counts."""
    if initiatives < 0 or responses < 0 or waves < 1:
        raise ValueError("Counts must be positive and there must be at least one wave.")
    vocabulary = Vocabulary.load()
    with transaction.atomic():
        wave_ids = synthetic_waves(seed, waves) if responses else []
        generator = Generator(
            Plan(
                seed=seed,
                initiatives=initiatives,
                responses=responses,
                vocabulary=vocabulary,
                first_ids=first_free_ids(generated_models()),
                sequences=dict(
                    ReferenceSequence.objects.select_for_update().values_list("year", "last")
                ),
                wave_ids=wave_ids,
            )
        )
        loader = Loader()
        chunks = [generator.people()]
        if initiatives:
            chunks = _chain(chunks, generator.initiative_chunks())
        if responses:
            chunks = _chain(chunks, generator.survey_chunks())
        for chunk in chunks:
            # Parents before children, as the foreign keys are checked row by row.
            for model in generator.tables:
                rows = chunk.get(model)
                if rows:
                    loader.write(generator.tables[model], rows)
        # The officers follow cases, so they hold the role that may (rules.case_officers()):
        # an edit of a case then validates its case officer as the site's would.
        Group.objects.get(name=CASE_OFFICER).user_set.add(*generator.officers)
        for year, last in generator.last_reference.items():
            ReferenceSequence.objects.update_or_create(year=year, defaults={"last": last})
        reset_sequences(generator.tables)
        reportcache.data_changed()
    if connection.vendor == "postgresql" and analyze:
        # Fresh statistics, as autovacuum would give later; VACUUM only where it may run.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in generator.tables.values():
                cursor.execute(f"{command} {connection.ops.quote_name(table.name)}")
    return loader.counts


def synthetic_waves(seed, count):
    """The survey waves of this seed, made anew; ValueError when they already exist."""
    ids = []
    for position in range(count):
        year = 2010 + 4 * position
        code = f"SYN{seed}-{year}"
        if Wave.objects.filter(code=code).exists():
            raise ValueError(
                f"Wave {code} exists: data for seed {seed} was already generated here."
            )
        title = f"Synthetic survey wave {year} (seed {seed})"
        wave = Wave.objects.create(
            code=code,
            title=title,
            title_en=title,
            title_fr=f"Vague d'enquête synthétique {year} (graine {seed})",
            year=year,
            synthetic=True,
            notes="Generated for benchmarks; not real survey data.",
        )
        ids.append(wave.pk)
    return ids


def reset_sequences(tables):
    """Move the id sequences past the rows written with explicit ids."""
    models = [table.model for table in tables.values()]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable
