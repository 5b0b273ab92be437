"""Small fixtures whose report numbers are worked out by hand in the tests."""

import datetime
from decimal import Decimal

import pytest

from initiatives import services
from initiatives.models import (
    AccountabilityFramework,
    BudgetFramework,
    Initiative,
    ReviewStatus,
)
from survey.models import Country, Item, Sector, Wave
from tests.factories import add_participation, answer, make_initiative

D = datetime.date


def item(question, code):
    return Item.objects.get(question__code=question, code=code)


def tag(initiative, field, *codes):
    question = Initiative.TAG_QUESTIONS[field]
    getattr(initiative, field).add(*[item(question, code) for code in codes])


def recorded(
    by,
    title,
    country,
    sector,
    history,
    *,
    review_status=ReviewStatus.PUBLISHED,
    level="local",
    start=None,
    **tags,
):
    """A published initiative with a stage history [(stage, date), ...] and tags."""
    (first_stage, first_date), *moves = history
    start = start or D(2024, 1, 1)
    initiative = make_initiative(
        by=by,
        title=title,
        country=Country.objects.get(code=country),
        sector=Sector.objects.get(code=sector),
        stage=first_stage,
        stage_date=first_date,
        level=level,
        start_date=start,
        review_status=review_status,
    )
    for stage, on in moves:
        services.initiative_change_stage(
            initiative=initiative, to_stage=stage, by=by, reason="moved", on=on
        )
    for field, codes in tags.items():
        tag(initiative, field, *codes)
    initiative.refresh_from_db()
    return initiative


@pytest.fixture
def wave(db):
    return Wave.objects.get(code="OECD-2010")


@pytest.fixture
def cases(staff, wave):
    """Nine public initiatives (plus three the public does not see) and a few survey answers.

    name country sector history                                           factors
    A    FIN     03     pilot 2024-01-01, embedded 2024-04-10 (100 days)  leadership, frameworks
    B    FIN     07     pilot 2024-01-01, embedded 2024-07-19 (200 days)  frameworks
    C    CAN     07     pilot 2024-02-01, discontinued 2024-06-01         leadership
    D    CAN     03     pilot 2024-03-01                                  -
    E    FIN     07     planned 2024-01-01, pilot 2024-05-01,             frameworks, skills
                        embedded 2025-05-01 (365 days); started 2025
    F    GBR     09     embedded 2023-06-01 (never a pilot)               frameworks
    G    FIN     03     planned 2024-01-01                                -
    D2   CAN     09     pilot 2024-03-01                                  frameworks
    D3   GBR     09     pilot 2024-06-01 (regional government)            leadership, frameworks
    Not public: H (FIN 03 embedded, draft), I (FIN 03 pilot, archived), J (FIN 07 pilot, draft).
    """
    by = staff
    c = {}
    c["A"] = recorded(
        by,
        "A",
        "FIN",
        "03",
        [("pilot", D(2024, 1, 1)), ("embedded", D(2024, 4, 10))],
        factors=["leadership", "frameworks"],
    )
    c["B"] = recorded(
        by,
        "B",
        "FIN",
        "07",
        [("pilot", D(2024, 1, 1)), ("embedded", D(2024, 7, 19))],
        factors=["frameworks"],
    )
    c["C"] = recorded(
        by,
        "C",
        "CAN",
        "07",
        [("pilot", D(2024, 2, 1)), ("discontinued", D(2024, 6, 1))],
        factors=["leadership"],
    )
    c["D"] = recorded(by, "D", "CAN", "03", [("pilot", D(2024, 3, 1))])
    c["E"] = recorded(
        by,
        "E",
        "FIN",
        "07",
        [("planned", D(2024, 1, 1)), ("pilot", D(2024, 5, 1)), ("embedded", D(2025, 5, 1))],
        factors=["frameworks", "skills"],
        start=D(2025, 1, 1),
    )
    c["F"] = recorded(by, "F", "GBR", "09", [("embedded", D(2023, 6, 1))], factors=["frameworks"])
    c["G"] = recorded(by, "G", "FIN", "03", [("planned", D(2024, 1, 1))])
    c["D2"] = recorded(by, "D2", "CAN", "09", [("pilot", D(2024, 3, 1))], factors=["frameworks"])
    c["D3"] = recorded(
        by,
        "D3",
        "GBR",
        "09",
        [("pilot", D(2024, 6, 1))],
        factors=["leadership", "frameworks"],
        level="regional",
    )
    c["H"] = recorded(
        by,
        "H",
        "FIN",
        "03",
        [("embedded", D(2024, 1, 1))],
        review_status=ReviewStatus.DRAFT,
        factors=["leadership"],
    )
    c["I"] = recorded(by, "I", "FIN", "03", [("pilot", D(2024, 1, 1))], factors=["leadership"])
    services.initiative_archive(initiative=c["I"], by=by, expected_version=c["I"].version)
    c["J"] = recorded(
        by, "J", "FIN", "07", [("pilot", D(2024, 1, 1))], review_status=ReviewStatus.DRAFT
    )

    # Survey, question `factors`: 3 (respondent, sector) pairs overall, 2 in FIN.
    answer(wave, "FIN", "r1", "03", "factors", {"frameworks": True, "leadership": True})
    answer(wave, "FIN", "r1", "07", "factors", {"frameworks": False, "leadership": True})
    answer(wave, "CAN", "r2", "07", "factors", {"frameworks": True, "leadership": False})
    return c


def budget(initiative, **fields):
    return BudgetFramework.objects.create(initiative=initiative, **fields)


@pytest.fixture
def money(cases):
    """Budget frameworks on A, B, D, F and D3 (see the evidence tests for the sums)."""
    budget(
        cases["A"],
        amount=Decimal("10000"),
        currency="EUR",
        citizen_hours=Decimal("120.5"),
        estimated_costs=Decimal("8000"),
        estimated_benefits=Decimal("12000"),
        evidence_level="monitored",
        funded_beyond_pilot=True,
        resources_transferred=True,
    )
    budget(
        cases["B"],
        amount=Decimal("5000"),
        currency="EUR",
        estimated_costs=Decimal("4000"),
        estimated_benefits=Decimal("2000"),
        evidence_level="formally_evaluated",
    )
    budget(
        cases["D"],
        amount=Decimal("3000"),
        currency="CAD",
        citizen_hours=Decimal("40"),
        evidence_level="self_reported",
    )
    budget(
        cases["F"],
        amount=Decimal("7000"),
        currency="GBP",
        estimated_costs=Decimal("1000"),
        estimated_benefits=Decimal("3000"),
        evidence_level="monitored",
    )
    budget(cases["D3"], currency="GBP", funded_beyond_pilot=True, evidence_level="monitored")
    return cases


@pytest.fixture
def readiness_cases(money):
    """D3 meets every readiness check, D one of six, D2 none; J (a draft) four."""
    c = money
    # D3: leadership tagged already; citizens in design, users in delivery.
    add_participation(c["D3"], phase="design", partner_type="citizen")
    add_participation(c["D3"], phase="deliver", partner_type="user")
    AccountabilityFramework.objects.create(
        initiative=c["D3"], accountable_body="Regional council", roles_written=True
    )
    tag(c["D3"], "barriers", "resources")
    tag(c["D3"], "barriers_addressed", "resources", "resistance")
    # D: citizens in two phases (the only check met); the rest is incomplete.
    add_participation(c["D"], phase="design", partner_type="citizen")
    add_participation(c["D"], phase="deliver", partner_type="citizen")
    AccountabilityFramework.objects.create(
        initiative=c["D"], accountable_body="City of Toronto", roles_written=False
    )
    tag(c["D"], "barriers", "resources", "resistance")
    tag(c["D"], "barriers_addressed", "resources")
    # D2: professionals everywhere and citizens in one phase only; no barriers listed.
    for phase in ("commission", "design", "deliver"):
        add_participation(c["D2"], phase=phase, partner_type="professional")
    add_participation(c["D2"], phase="design", partner_type="citizen")
    # J (draft): leadership, user engagement, accountability, barriers; no budget.
    tag(c["J"], "factors", "leadership")
    add_participation(c["J"], phase="assess", partner_type="user")
    add_participation(c["J"], phase="design", partner_type="citizen")
    AccountabilityFramework.objects.create(
        initiative=c["J"], accountable_body="Ministry", roles_written=True
    )
    tag(c["J"], "barriers", "evidence")
    tag(c["J"], "barriers_addressed", "evidence")
    return c


def more_cases(by, count, *, offset=0):
    """Extra initiatives for the query-count tests: varied stages, sectors, tags, budgets."""
    countries = ["FIN", "CAN", "NOR", "USA", "GBR"]
    sectors = ["01", "03", "07", "09", "10"]
    made = []
    for n in range(count):
        history = [("pilot", D(2023, 1, 1 + n % 28))]
        if n % 3 == 0:
            history.append(("embedded", D(2024, 1 + n % 12, 1)))
        initiative = recorded(
            by,
            f"More {offset + n}",
            countries[n % len(countries)],
            sectors[n % len(sectors)],
            history,
            factors=["leadership", "engagement"][: 1 + n % 2],
            barriers=["resources"],
            objectives=["quality"],
        )
        budget(
            initiative,
            amount=Decimal(1000 + n),
            currency=["EUR", "NOK"][n % 2],
            estimated_costs=Decimal(100),
            estimated_benefits=Decimal(150 + n),
            evidence_level="monitored",
            citizen_hours=Decimal(10),
        )
        add_participation(initiative, phase="design", partner_type="citizen")
        made.append(initiative)
    return made


DEMO_COUNTRIES = ["FIN", "CAN", "NOR", "USA", "GBR", "FRA", "DEU", "ITA", "ESP"]
DEMO_SECTORS = ["03", "06", "07", "09", "10"]


def demo_data(by, *, initiatives=45, seed=2010):
    """A briefing-sized data set: initiatives with histories, tags and budgets, and survey
    answers for the three questions, drawn from a fixed seed so that screenshots repeat."""
    import random

    rng = random.Random(seed)
    wave = Wave.objects.get(code="OECD-2010")
    factors = ["leadership", "engagement", "frameworks", "skills"]
    barriers = ["resources", "resistance", "incentives", "evidence"]
    reasons = ["involvement", "quality", "costs", "satisfaction"]
    for n in range(initiatives):
        country = DEMO_COUNTRIES[n % len(DEMO_COUNTRIES)]
        # The countries the OECD named as beyond piloting embed more often.
        leading = country in {"FIN", "CAN", "NOR", "USA", "GBR"}
        start = D(2020 + n % 4, 1 + n % 12, 1 + n % 27)
        history = [("pilot", start)]
        fate = rng.random()
        if fate < (0.55 if leading else 0.2):
            history.append(("embedded", start + datetime.timedelta(days=rng.randint(120, 900))))
            stage = "embedded"
        elif fate < 0.7:
            history.append(("discontinued", start + datetime.timedelta(days=rng.randint(90, 500))))
            stage = "discontinued"
        elif fate < 0.8:
            history = [("planned", start)]
            stage = "planned"
        else:
            stage = "pilot"
        embedded = stage == "embedded"
        chosen_factors = [
            code
            for code, chance in zip(
                factors,
                [
                    0.7 if embedded else 0.35,
                    0.8 if embedded else 0.5,
                    0.75 if embedded else 0.3,
                    0.4,
                ],
                strict=True,
            )
            if rng.random() < chance
        ]
        met = [code for code in barriers if rng.random() < 0.4]
        initiative = recorded(
            by,
            f"Demo initiative {n + 1}",
            country,
            rng.choice(DEMO_SECTORS),
            history,
            start=start,
            level=["local", "regional", "national"][n % 3],
            factors=chosen_factors,
            barriers=met,
            barriers_addressed=[code for code in met if rng.random() < 0.6],
            objectives=[code for code in reasons if rng.random() < 0.5],
        )
        if rng.random() < 0.75:
            currency = {"NOR": "NOK", "USA": "USD", "CAN": "CAD", "GBR": "GBP"}.get(country, "EUR")
            costs = Decimal(rng.randint(20, 400) * 1000)
            budget(
                initiative,
                amount=costs + Decimal(rng.randint(0, 100) * 1000),
                currency=currency,
                citizen_hours=Decimal(rng.randint(50, 3000)) if rng.random() < 0.6 else None,
                estimated_costs=costs if rng.random() < 0.5 else None,
                estimated_benefits=(costs * Decimal(rng.randint(60, 260)) / 100)
                if rng.random() < 0.45
                else None,
                evidence_level=rng.choice(["", "self_reported", "monitored", "formally_evaluated"]),
                funded_beyond_pilot=rng.random() < (0.7 if embedded else 0.3),
                resources_transferred=rng.random() < 0.2,
            )
        if rng.random() < 0.6:
            AccountabilityFramework.objects.create(
                initiative=initiative,
                accountable_body="Municipal board",
                roles_written=rng.random() < 0.6,
            )
        for phase in rng.sample(["commission", "design", "deliver", "assess"], rng.randint(1, 3)):
            add_participation(initiative, phase=phase, partner_type=rng.choice(["citizen", "user"]))
    chances = {
        "reasons": {"involvement": 0.6, "quality": 0.6, "costs": 0.23, "satisfaction": 0.45},
        "barriers": {"resources": 0.42, "resistance": 0.36, "incentives": 0.31, "evidence": 0.29},
        "factors": {"leadership": 0.8, "engagement": 0.75, "frameworks": 0.73, "skills": 0.5},
    }
    for r in range(36):
        country = DEMO_COUNTRIES[r % len(DEMO_COUNTRIES)]
        for sector in rng.sample(DEMO_SECTORS, 2):
            for question, items in chances.items():
                answer(
                    wave,
                    country,
                    f"demo-{r}",
                    sector,
                    question,
                    {code: rng.random() < chance for code, chance in items.items()},
                )
