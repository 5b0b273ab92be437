"""Loads the demo data of `initiatives.json` beside this module (`manage.py seed_demo`).

The file holds what the demo is about: logins, organisations, initiatives and the texts of
their timelines. This module turns them into records the way the product makes them,
through `initiatives.services`, drawing the rest (dates, budgets, tags, partners, the
synthetic survey's answers) from a random generator with a fixed seed, so every run gives
the same data. What exists already (found by username, organisation name, initiative title,
wave code) is left as it is.
"""

import datetime
import json
import random
from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from initiatives import roles, services
from initiatives.models import (
    AccountabilityFramework,
    Activity,
    ActivityKind,
    BudgetFramework,
    EvidenceLevel,
    Initiative,
    Membership,
    Organisation,
    Participation,
    ParticipationLevel,
    ReviewStatus,
    Stage,
)
from initiatives.roles import sync_roles
from survey.models import Country, Item, ReferenceValue, Respondent, Response, Sector, Wave

DATA_FILE = Path(__file__).with_name("initiatives.json")
SEED = 2010  # the year of the OECD survey; any fixed number would do
TODAY_IN_THE_DEMO = datetime.date(2025, 11, 1)  # every demo date is before this

CURRENCY = {
    "FIN": "EUR", "NLD": "EUR", "FRA": "EUR", "DEU": "EUR", "BEL": "EUR", "GBR": "GBP",
    "CAN": "CAD", "NOR": "NOK", "USA": "USD", "DNK": "DKK", "SWE": "SEK", "AUS": "AUD",
    "NZL": "NZD", "KOR": "KRW",
}  # fmt: skip
# Roughly how many units of the currency buy what one euro buys, to keep budgets plausible.
SCALE = {"EUR": 1, "GBP": 0.85, "CAD": 1.5, "NOK": 11, "USD": 1.1, "DKK": 7.5, "SEK": 11,
         "AUD": 1.6, "NZD": 1.8, "KRW": 1450}  # fmt: skip

# Months a move usually takes, as (fewest, most).
STAGE_GAPS = {
    ("planned", "pilot"): (6, 14),
    ("pilot", "embedded"): (18, 40),
    ("pilot", "discontinued"): (12, 30),
    ("discontinued", "pilot"): (10, 20),
}
# The cells of the "who does what" table a demo initiative may fill, as (phase, partner).
CELLS = [
    ("commission", "professional"),
    ("commission", "community_group"),
    ("design", "professional"),
    ("design", "cso"),
    ("deliver", "user"),
    ("deliver", "community_group"),
    ("deliver", "cso"),
    ("assess", "user"),
    ("assess", "cso"),
]
LEVELS = {
    "citizen": ParticipationLevel.INDIVIDUAL,
    "user": ParticipationLevel.INDIVIDUAL,
    "community_group": ParticipationLevel.GROUP,
}
# Chance that a respondent ticks each item of the synthetic survey (near the OECD's values).
TICK_CHANCE = {
    "involvement": 0.6, "quality": 0.6, "costs": 0.23, "satisfaction": 0.45,
    "resources": 0.42, "resistance": 0.36, "incentives": 0.31, "evidence": 0.29,
    "leadership": 0.8, "engagement": 0.75, "frameworks": 0.73, "skills": 0.5,
}  # fmt: skip
SURVEY_COUNTRIES = sorted(CURRENCY)
SELF_DIRECTED = ("budget", "personal", "self-directed", "family-managed", "user-controlled")


@cache
def demo_data() -> dict[str, Any]:
    """The contents of `initiatives.json`."""
    with DATA_FILE.open(encoding="utf-8") as file:
        return json.load(file)


def _moment(day):
    return datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=datetime.UTC)


def _months_later(day, months):
    return day + datetime.timedelta(days=round(months * 30.4))


class DemoLoader:
    """Makes the demo's records; `load()` returns how many initiatives and waves it made."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 - demo data, not secrets
        self.data = demo_data()
        self.texts = self.data["texts"]

    def load(self) -> tuple[int, bool]:
        people = self.people()
        organisations = self.organisations(people)
        created = sum(
            self.initiative(number, row, people, organisations)
            for number, row in enumerate(self.data["initiatives"])
        )
        return created, self.survey()

    # People and organisations -------------------------------------------------------

    def _user(self, username, first, last, *, password=None, role=None):
        """A demo account; staff get `is_staff` (the admin's door) and their role's group."""
        user, made = get_user_model().objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.org",
                "is_staff": role is not None,
            },
        )
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        if made:
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def people(self):
        sync_roles(django_apps)  # the migration made them; an administrator may have changed them
        people = {
            username: self._user(
                username,
                login["first_name"],
                login["last_name"],
                password=login["password"],
                role=login["role"],
            )
            for username, login in self.data["logins"].items()
        }
        for officer in self.data["case_officers"]:
            people[officer["username"]] = self._user(
                officer["username"],
                officer["first_name"],
                officer["last_name"],
                role=roles.CASE_OFFICER,
            )
        return people

    def organisations(self, people):
        organisations = {}
        for key, row in self.data["organisations"].items():
            admin = people["member"] if key == "kallio" else self._user(f"{key}.admin", "", "")
            organisation, _made = Organisation.objects.get_or_create(
                name=row["name"],
                defaults={
                    "kind": row["kind"],
                    "country_id": row["country"],
                    "verified": row["verified"],
                    "contact_name": admin.get_full_name(),
                    "contact_email": admin.email,
                },
            )
            Membership.objects.get_or_create(
                user=admin,
                organisation=organisation,
                defaults={"role": Membership.Role.ADMIN, "status": Membership.Status.ACTIVE},
            )
            organisations[key] = (organisation, admin)
        # The demo group also has an ordinary member and someone asking to join.
        kallio = organisations["kallio"][0]
        for username, status in (("kallio.resident", "active"), ("kallio.newcomer", "pending")):
            Membership.objects.get_or_create(
                user=self._user(username, "", ""),
                organisation=kallio,
                defaults={"role": Membership.Role.MEMBER, "status": status},
            )
        return organisations

    # Initiatives ---------------------------------------------------------------------

    def _dates(self, stages):
        """The day each stage was reached, several years back and never past the demo's today."""
        gaps = [self.rng.randint(*STAGE_GAPS[move]) for move in pairwise(stages)]
        latest_start = _months_later(TODAY_IN_THE_DEMO, -(sum(gaps) + 4))
        earliest_start = min(datetime.date(2015, 1, 1), _months_later(latest_start, -12))
        if len(stages) == 1:  # just recorded: recent
            earliest_start = datetime.date(2024, 6, 1)
        start = earliest_start + datetime.timedelta(
            days=self.rng.randint(0, (latest_start - earliest_start).days)
        )
        days = [start]
        for gap in gaps:
            days.append(_months_later(days[-1], gap))
        return days

    def initiative(self, number, row, people, organisations):
        country, sector, review, owner = row["country"], row["sector"], row["review"], row["owner"]
        lead = row["lead_public_body"]
        if Initiative.objects.filter(title=row["title"]).exists():
            return 0
        stages = row["stages"].split(">")
        days = self._dates(stages)
        organisation, author = organisations[owner] if owner else (None, people["staff"])
        officers = [people["staff"], people["officer.okafor"], people["officer.lindqvist"]]
        is_draft = review == ReviewStatus.DRAFT
        people_word = self.texts["people"].get(sector, "residents")

        # Groups record new initiatives at "planned"; one already further on was recorded
        # by staff (who may start it at any stage).
        recorder = author if stages[0] == Stage.PLANNED else people["staff"]
        initiative = services.initiative_create(
            by=recorder,
            stage=stages[0],
            stage_date=days[0],
            created_at=_moment(days[0]),
            title=row["title"],
            summary=row["summary"],
            # A draft may still miss parts; that is what "submit" checks for.
            description="" if is_draft and number % 2 else self._description(lead),
            country=Country.objects.get(code=country),
            sector=Sector.objects.get(code=sector),
            level=row["level"],
            lead_public_body=lead,
            organisation=organisation,
            case_officer=None if is_draft else officers[number % len(officers)],
            start_date=self._start(stages, days),
            end_date=days[-1] if stages[-1] == Stage.DISCONTINUED else None,
            participants=self.rng.choice([12, 25, 40, 80, 150, 300, 1200, 5000]),
            tags=self._tags(stages[-1]),
        )
        self._participations(initiative, organisation)
        if not (is_draft and number % 2):
            self._frameworks(initiative, stages[-1], country, lead)
        self._activities(initiative, days, author, lead, people_word)
        for (before, after), day in zip(pairwise(stages), days[1:], strict=True):
            services.initiative_change_stage(
                initiative=initiative,
                to_stage=after,
                by=officers[0],
                reason=self.texts["stage_reasons"][f"{before}>{after}"].format(lead=lead),
                on=day,
            )
        last_day = max(days[-1], *initiative.activities.values_list("date", flat=True))
        self._review(initiative, review, author, officers[number % len(officers)], last_day)
        return 1

    @staticmethod
    def _start(stages, days):
        """The day it started running (its pilot); a planned one plans to start in six months."""
        running = [day for stage, day in zip(stages, days, strict=True) if stage != Stage.PLANNED]
        return running[0] if running else days[0] + datetime.timedelta(days=182)

    def _description(self, lead):
        # The summary is shown above the description: the description goes on from it.
        how = self.rng.choice(self.texts["ways_of_working"])
        return (
            f"The initiative is a partnership with {lead}. {how} Participants are offered "
            "training before they start, and their contribution is recorded in the budget "
            "framework."
        )

    def _tags(self, stage):
        def pick(question, count, always=(), never=()):
            codes = list(always)
            others = [item.code for item in Item.objects.of_question(question)]
            pool = [c for c in others if c not in codes and c not in never]
            codes += self.rng.sample(pool, min(len(pool), count - len(codes)))
            return list(Item.objects.of_question(question).filter(code__in=codes))

        barriers = pick("barriers", self.rng.randint(1, 3))
        # Embedded initiatives name clear frameworks more often than pilots, as the survey
        # found, but not always, and some pilots have them too: real records are untidy.
        frameworks_chance = {Stage.EMBEDDED: 0.75, Stage.PILOT: 0.35}.get(stage, 0.2)
        always = ["frameworks"] if self.rng.random() < frameworks_chance else []
        if self.rng.random() < 0.7:
            always.append("engagement")
        never = () if "frameworks" in always else ("frameworks",)
        factors = pick(
            "factors", max(len(always), self.rng.randint(1, 3)), always=always, never=never
        )
        return {
            "objectives": pick("reasons", self.rng.randint(1, 3), always=["involvement"]),
            "barriers": barriers,
            "barriers_addressed": barriers[: self.rng.randint(0, len(barriers))],
            "factors": factors,
        }

    def _participations(self, initiative, organisation):
        lead_partner = "user" if initiative.sector_id in self.texts["people"] else "citizen"
        cells = [("design", lead_partner), ("deliver", "professional")]
        cells += self.rng.sample(CELLS, self.rng.randint(1, 3))
        Participation.objects.bulk_create(
            Participation(
                initiative=initiative,
                phase=phase,
                partner_type=partner_type,
                level=LEVELS.get(partner_type, ParticipationLevel.COLLECTIVE),
                organisation=organisation if partner_type in ("community_group", "cso") else None,
                role=self.texts["roles"][phase],
            )
            for phase, partner_type in dict.fromkeys(cells)  # each cell once
        )

    def _frameworks(self, initiative, stage, country, lead):
        embedded = stage == Stage.EMBEDDED
        AccountabilityFramework.objects.create(
            initiative=initiative,
            accountable_body=lead,
            reporting_line=f"Steering group of participants and staff, reporting to {lead}",
            reporting_frequency=self.rng.choice(["Monthly", "Quarterly", "Twice a year"]),
            roles_written=self.rng.random() < (0.8 if embedded else 0.4),
            risk_arrangements="Shared risk register reviewed at each steering group meeting.",
            probity_arrangements="Expenses checked by the finance office; members declare "
            "conflicts of interest.",
        )
        currency = CURRENCY[country]
        amount = Decimal(round(self.rng.randint(20, 900) * 1000 * SCALE[currency], -3))
        self_directed = any(word in initiative.title.lower() for word in SELF_DIRECTED)
        if embedded:
            evidence = self.rng.choice(
                ["formally_evaluated", "formally_evaluated", "monitored", "self_reported"]
            )
        elif stage == Stage.PLANNED:
            evidence = self.rng.choice([EvidenceLevel.SELF_REPORTED, ""])
        else:
            evidence = self.rng.choice(["monitored", "self_reported", "formally_evaluated", ""])
        BudgetFramework.objects.create(
            initiative=initiative,
            amount=amount,
            currency=currency,
            funding_sources=f"{lead} service budget"
            + ("" if embedded else "; a national innovation fund grant for the pilot"),
            funded_beyond_pilot=self.rng.random() < (0.85 if embedded else 0.15),
            resources_transferred=self_directed,
            transferred_amount=(amount * Decimal("0.6")).quantize(Decimal(1))
            if self_directed
            else None,
            citizen_hours=Decimal(
                self.rng.choice([self.rng.randint(20, 400) * 10, self.rng.randint(2, 60) * 100])
            ),
            citizen_knowledge="Local knowledge of needs and of what has been tried before.",
            citizen_effort="Organising, hosting and following up the activities.",
            estimated_costs=amount,
            estimated_benefits=(amount * Decimal(self.rng.uniform(0.7, 2.6))).quantize(
                Decimal(1000)
            ),
            evidence_level=evidence,
        )

    def _activities(self, initiative, days, author, lead, people_word):
        span = max((days[-1] - days[0]).days, 60)
        for activity in self.rng.sample(self.texts["activities"], self.rng.randint(2, 4)):
            Activity.objects.create(
                initiative=initiative,
                kind=activity["kind"],
                date=days[0] + datetime.timedelta(days=self.rng.randint(14, span)),
                author=author,
                text=activity["text"].format(lead=lead, people=people_word),
            )

    def _review(self, initiative, review, author, officer, last_day):
        """Take the initiative through review as far as `review`, dated after its last event."""
        if review == ReviewStatus.DRAFT:
            Initiative.objects.filter(pk=initiative.pk).update(updated_at=_moment(last_day))
            return
        if review == ReviewStatus.PUBLISHED:
            submitted_on = last_day + datetime.timedelta(days=self.rng.randint(20, 120))
        else:  # still with the group or the case officer: a recent submission
            recently = TODAY_IN_THE_DEMO - datetime.timedelta(days=self.rng.randint(30, 150))
            submitted_on = max(last_day, recently)
        submitted_on = min(submitted_on, TODAY_IN_THE_DEMO)
        decided_on = submitted_on + datetime.timedelta(days=self.rng.randint(5, 25))
        services.initiative_submit(initiative=initiative, by=author)
        if review == ReviewStatus.PUBLISHED:
            services.initiative_approve(initiative=initiative, by=officer)
        elif review == ReviewStatus.RETURNED:
            reason = self.rng.choice(self.texts["return_reasons"])
            services.initiative_return(initiative=initiative, by=officer, reason=reason)
        else:
            decided_on = submitted_on
        # The services stamp today; the demo's history happened in the past.
        reviews = initiative.activities.filter(kind=ActivityKind.REVIEW)
        submission = reviews.order_by("pk").first()
        reviews.filter(pk=submission.pk).update(date=submitted_on)
        reviews.exclude(pk=submission.pk).update(date=decided_on)
        Initiative.objects.filter(pk=initiative.pk).update(
            submitted_at=_moment(submitted_on),
            published_at=_moment(decided_on) if review == ReviewStatus.PUBLISHED else None,
            updated_at=_moment(decided_on),
        )

    # The synthetic survey ------------------------------------------------------------

    def survey(self):
        existing = Wave.objects.filter(code="DEMO").first()
        if existing:
            self.published_values(existing)  # demo databases loaded before they were copied
            return False
        wave = Wave.objects.create(
            code="DEMO",
            title="Synthetic demonstration survey (not real data)",
            title_en="Synthetic demonstration survey (not real data)",
            title_fr="Enquête de démonstration synthétique (données fictives)",
            year=2024,
            synthetic=True,
            notes="Generated by `manage.py seed_demo` with a fixed random seed, to try the "
            "reports. These are not OECD data. Its reference values are the OECD's published "
            "2010 values, so that the reports show real published values beside the made-up "
            "ones.",
        )
        self.published_values(wave)
        items = list(Item.objects.select_related("question"))
        sectors = list(Sector.objects.order_by("code"))
        respondents = Respondent.objects.bulk_create(
            Respondent(wave=wave, country_id=country, code=f"DEMO-{country}-{n:02d}")
            for country in SURVEY_COUNTRIES
            for n in range(1, self.rng.randint(2, 4) + 1)
        )
        responses = []
        for respondent in respondents:
            for sector in self.rng.sample(sectors, self.rng.randint(3, 6)):
                for question in ("reasons", "barriers", "factors"):
                    if self.rng.random() < 0.1:  # some leave a question unanswered
                        continue
                    responses += [
                        Response(
                            respondent=respondent,
                            sector=sector,
                            item=item,
                            affirmative=self.rng.random() < TICK_CHANCE.get(item.code, 0.5),
                        )
                        for item in items
                        if item.question.code == question
                    ]
        Response.objects.bulk_create(responses, batch_size=1000)
        return True

    def published_values(self, wave):
        """The OECD's published 2010 values, as the synthetic wave's reference values: the
        synthetic survey imitates that survey, and the reports set what a wave computes
        beside what the OECD published."""
        if wave.reference_values.exists():
            return
        ReferenceValue.objects.bulk_create(
            ReferenceValue(wave=wave, item_id=value.item_id, percent=value.percent)
            for value in ReferenceValue.objects.filter(wave__code="OECD-2010")
        )
