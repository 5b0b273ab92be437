"""Demo data for trying coprod locally: `python manage.py seed_demo` (run by `make run`).

Loads realistic co-production initiatives from fourteen countries, with their partners,
frameworks, tags, timelines and stage histories over several years; the organisations
that keep them; a synthetic survey wave `DEMO`; and people to sign in as: one for each
staff role, and a group's admin. Everything
is made through `initiatives.services`, as the product makes it, with fixed random
choices, so every run gives the same data.

It is idempotent: what exists already (found by username, organisation name, initiative
title, wave code) is left as it is, so a second run changes nothing. It creates users
with known passwords, so it refuses to run unless DEBUG is on.
"""

import datetime
import random
from decimal import Decimal
from itertools import pairwise

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

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

SEED = 2010  # the year of the OECD survey; any fixed number would do
TODAY_IN_THE_DEMO = datetime.date(2025, 11, 1)  # every demo date is before this

LOGINS = {
    # username: (password, first name, last name, staff role or None, what they do)
    "staff": (
        "staff-demo",
        "Aino",
        "Virtanen",
        roles.ADMINISTRATOR,
        "government staff: everything, and reviews cases",
    ),
    "officer": ("officer-demo", "Sami", "Niemi", roles.CASE_OFFICER, "reviews and assigns cases"),
    "surveys": ("surveys-demo", "Leena", "Korhonen", roles.SURVEY_MANAGER, "imports survey files"),
    "analyst": (
        "analyst-demo",
        "Jonas",
        "Berg",
        roles.ANALYST,
        "reads everything, changes nothing",
    ),
    "member": ("member-demo", "Mikko", "Laine", None, "admin of Kallio Neighbourhood Association"),
}
# Colleagues and group admins who appear in the data; nobody can sign in as them.
CASE_OFFICERS = [("officer.okafor", "Grace", "Okafor"), ("officer.lindqvist", "Erik", "Lindqvist")]

# key: (name, kind, country, verified)
ORGANISATIONS = {
    "kallio": ("Kallio Neighbourhood Association", "citizens_group", "FIN", True),
    "diabetes": ("Pirkanmaa Diabetes Peer Network", "cso", "FIN", False),
    "helsinki": ("Helsinki Social Services", "public_agency", "FIN", True),
    "kent": ("Kent Carers' Forum", "cso", "GBR", True),
    "lambeth": ("Lambeth Tenants Together", "citizens_group", "GBR", False),
    "novascotia": ("Nova Scotia Family Caregivers Network", "cso", "CAN", True),
    "bergen": ("Bergen Parents' Council", "citizens_group", "NOR", True),
    "la": ("LA Neighborhood Preparedness Network", "citizens_group", "USA", False),
    "minneapolis": ("Minneapolis Watershed Volunteers", "citizens_group", "USA", True),
    "rotterdam": ("Rotterdam Residents' Housing Co-operative", "citizens_group", "NLD", True),
    "aarhus": ("Aarhus Patient Panel", "citizens_group", "DNK", False),
    "kidney": ("Jönköping Kidney Patients' Association", "cso", "SWE", True),
    "lyon": ("Réseau des parents de Lyon", "citizens_group", "FRA", False),
    "pankow": ("Friends of the Pankow Libraries", "citizens_group", "DEU", True),
    "wa": ("WA Disability Advocacy Network", "cso", "AUS", True),
    "whanau": ("South Auckland Whānau Collective", "citizens_group", "NZL", False),
    "seoul": ("Seoul Citizens' Budget Committee", "citizens_group", "KOR", True),
    "brussels": ("Brussels Compost Neighbours", "citizens_group", "BEL", False),
}

# (country, sector, level, stages taken, review status, owner, title, lead public body, summary)
INITIATIVES = [
    (
        "FIN",
        "03",
        "local",
        "pilot>embedded",
        "published",
        "kallio",
        "Kallio neighbourhood safety walks",
        "Helsinki Police Department",
        "Residents and community police officers walk the district together every month and keep "
        "a shared log of problems that the city answers within two weeks.",
    ),
    (
        "FIN",
        "06",
        "local",
        "planned",
        "draft",
        "kallio",
        "Shared courtyard gardens in Kallio",
        "City of Helsinki Urban Environment Division",
        "Residents plan and tend gardens in the courtyards of city-owned blocks; the city provides "
        "soil, tools and a gardener's advice.",
    ),
    (
        "FIN",
        "08",
        "local",
        "planned>pilot",
        "returned",
        "kallio",
        "Kallio library living-room evenings",
        "Helsinki City Library",
        "Volunteers host weekly evenings in the district library: homework help, language cafés "
        "and repair workshops run by residents for residents.",
    ),
    (
        "FIN",
        "09",
        "local",
        "planned>pilot",
        "submitted",
        "kallio",
        "Pupils' own budget in Helsinki schools",
        "City of Helsinki Education Division",
        "Pupils propose and vote on how part of each school's budget is spent, and carry out the "
        "winning projects with their teachers.",
    ),
    (
        "FIN",
        "10",
        "national",
        "pilot>embedded",
        "published",
        "helsinki",
        "Personal budgets for disability services",
        "Ministry of Social Affairs and Health",
        "People with disabilities plan their support with a social worker and manage a personal "
        "budget to buy the assistance that suits them.",
    ),
    (
        "FIN",
        "07",
        "regional",
        "pilot",
        "draft",
        "diabetes",
        "Peer support groups for people newly diagnosed with diabetes",
        "Pirkanmaa Wellbeing Services County",
        "Trained peers who live with diabetes run six-week groups alongside diabetes nurses, "
        "covering diet, medication and living with the condition.",
    ),
    (
        "FIN",
        "01",
        "local",
        "pilot>embedded",
        "published",
        None,
        "OmaStadi participatory budgeting",
        "City of Helsinki",
        "Residents propose, develop with city experts and vote on projects for a share of the "
        "city's investment budget, district by district.",
    ),
    (
        "GBR",
        "07",
        "national",
        "pilot>embedded",
        "published",
        None,
        "Expert patients programme",
        "NHS England",
        "People living with long-term conditions lead self-management courses for their peers, "
        "with clinicians providing training and referrals.",
    ),
    (
        "GBR",
        "10",
        "local",
        "pilot>embedded",
        "published",
        "kent",
        "Self-directed support budgets for carers in Kent",
        "Kent County Council",
        "Carers agree a support plan with a council worker and receive a direct payment to "
        "arrange breaks and help in the way that works for their family.",
    ),
    (
        "GBR",
        "03",
        "local",
        "pilot",
        "returned",
        None,
        "Community speed watch in rural Devon",
        "Devon and Cornwall Police",
        "Trained volunteers monitor traffic speeds in their villages; the police follow up with "
        "warning letters and targeted enforcement.",
    ),
    (
        "GBR",
        "06",
        "local",
        "planned>pilot>discontinued",
        "published",
        "lambeth",
        "Tenant-led repairs on Lambeth estates",
        "London Borough of Lambeth",
        "Tenants' panels prioritised and checked minor repairs on three estates, with a small "
        "budget delegated from the council's housing service.",
    ),
    (
        "GBR",
        "09",
        "regional",
        "planned",
        "draft",
        None,
        "Family learning hubs in Glasgow",
        "Glasgow City Council",
        "Parents and teachers design after-school sessions where families learn together, hosted "
        "in community centres across the city.",
    ),
    (
        "GBR",
        "08",
        "local",
        "pilot>embedded",
        "published",
        None,
        "Friends of the park: volunteer-managed green spaces in Bristol",
        "Bristol City Council",
        "Friends groups agree an annual plan with park rangers and carry out planting, litter "
        "picks and events in their local parks.",
    ),
    (
        "CAN",
        "10",
        "regional",
        "pilot>embedded",
        "published",
        "novascotia",
        "Family-managed home support in Nova Scotia",
        "Nova Scotia Department of Seniors and Long-term Care",
        "Families of older people and people with disabilities receive funding to hire and "
        "manage their own home support workers.",
    ),
    (
        "CAN",
        "07",
        "regional",
        "pilot>embedded",
        "published",
        None,
        "Patient and family advisers in Alberta hospitals",
        "Alberta Health Services",
        "Patients and family members sit on hospital committees and help redesign admission, "
        "discharge and visiting policies.",
    ),
    (
        "CAN",
        "05",
        "local",
        "pilot",
        "submitted",
        None,
        "Neighbourhood tree stewards in Toronto",
        "City of Toronto Parks, Forestry and Recreation",
        "Residents adopt newly planted street trees, water them through their first summers and "
        "report damage to city foresters.",
    ),
    (
        "CAN",
        "03",
        "regional",
        "planned>pilot",
        "published",
        None,
        "Community safety plans co-written with First Nations in Saskatchewan",
        "Saskatchewan Ministry of Corrections, Policing and Public Safety",
        "First Nations communities and provincial staff write community safety plans together "
        "and share responsibility for carrying them out.",
    ),
    (
        "CAN",
        "09",
        "local",
        "pilot>discontinued",
        "published",
        None,
        "Newcomer parent mentors in Winnipeg schools",
        "Winnipeg School Division",
        "Parents who arrived in Canada a few years earlier mentor newcomer families through "
        "school enrolment, meetings and homework.",
    ),
    (
        "NOR",
        "10",
        "national",
        "pilot>embedded",
        "published",
        None,
        "User-controlled personal assistance (BPA)",
        "Norwegian Directorate of Health",
        "Disabled people act as the managers of their own assistants, deciding who helps them, "
        "with what and when, within an agreed budget.",
    ),
    (
        "NOR",
        "09",
        "local",
        "pilot>embedded",
        "published",
        "bergen",
        "Parent-run after-school activities in Bergen",
        "City of Bergen",
        "Parents' councils design and run after-school activities with the schools, opening "
        "sports halls and workshops on weekday afternoons.",
    ),
    (
        "NOR",
        "07",
        "regional",
        "planned>pilot",
        "submitted",
        None,
        "Recovery college co-run by mental health service users",
        "Oslo University Hospital",
        "Courses on mental health and recovery are designed and taught jointly by people with "
        "lived experience and clinicians.",
    ),
    (
        "NOR",
        "04",
        "regional",
        "pilot",
        "published",
        None,
        "Volunteer transport for older people in rural Nordland",
        "Nordland County Council",
        "Volunteer drivers take older people without a car to appointments and shops, booked "
        "through the county's public transport call centre.",
    ),
    (
        "USA",
        "03",
        "local",
        "pilot>embedded",
        "published",
        "la",
        "Community emergency response teams in Los Angeles",
        "Los Angeles Fire Department",
        "Residents trained by firefighters prepare their blocks for earthquakes and help "
        "neighbours until professional responders arrive.",
    ),
    (
        "USA",
        "05",
        "local",
        "pilot>embedded",
        "published",
        "minneapolis",
        "Adopt-a-Drain stormwater stewardship in Minneapolis",
        "City of Minneapolis Public Works",
        "Residents adopt a storm drain, keep it clear of leaves and litter and report how much "
        "debris they removed, keeping pollution out of the lakes.",
    ),
    (
        "USA",
        "07",
        "regional",
        "pilot",
        "returned",
        None,
        "Community health workers for chronic care in New Mexico",
        "New Mexico Department of Health",
        "Community health workers from the neighbourhoods they serve help patients with diabetes "
        "and heart disease manage their care between clinic visits.",
    ),
    (
        "USA",
        "01",
        "local",
        "pilot>embedded",
        "published",
        None,
        "Participatory budgeting in Chicago's 49th Ward",
        "City of Chicago, 49th Ward Office",
        "Residents decide how the ward's discretionary infrastructure budget is spent, from "
        "street lighting to bike lanes, through neighbourhood assemblies and a vote.",
    ),
    (
        "USA",
        "09",
        "local",
        "planned",
        "draft",
        None,
        "Parent–teacher home visits in Sacramento",
        "Sacramento City Unified School District",
        "Teachers visit families at home, in pairs and by invitation, to build trust and agree "
        "together how to support each child's learning.",
    ),
    (
        "NLD",
        "06",
        "local",
        "pilot",
        "published",
        "rotterdam",
        "Residents' co-operative maintaining social housing in Rotterdam",
        "Municipality of Rotterdam",
        "A residents' co-operative takes over day-to-day maintenance of two housing blocks with "
        "the budget the housing corporation used to spend on it.",
    ),
    (
        "NLD",
        "10",
        "local",
        "pilot>embedded",
        "published",
        None,
        "Neighbourhood care co-operatives in Utrecht",
        "Municipality of Utrecht",
        "Residents organise help for older neighbours — shopping, small jobs, company — "
        "alongside the district's nurses and social workers.",
    ),
    (
        "NLD",
        "05",
        "local",
        "planned>pilot",
        "submitted",
        None,
        "Green roofs co-financed by residents in Amsterdam",
        "Municipality of Amsterdam",
        "Owners' associations and the city share the cost of green roofs that hold rainwater, "
        "with residents choosing the planting and doing the upkeep.",
    ),
    (
        "DNK",
        "07",
        "regional",
        "pilot>embedded",
        "published",
        "aarhus",
        "Patient-reported outcomes steering outpatient visits",
        "Central Denmark Region",
        "Patients answer a short questionnaire before each check-up; together with their doctor "
        "they use the answers to decide whether they need the visit at all.",
    ),
    (
        "DNK",
        "10",
        "local",
        "pilot>discontinued",
        "published",
        None,
        "Peer mentors for young people leaving care in Odense",
        "Odense Municipality",
        "Young adults who grew up in care mentor 17- and 18-year-olds through the move to "
        "living on their own.",
    ),
    (
        "SWE",
        "07",
        "regional",
        "pilot>embedded",
        "published",
        "kidney",
        "Self-dialysis run by patients at Ryhov hospital",
        "Region Jönköping County",
        "Patients trained by nurses run their own dialysis in a self-care unit, choosing the "
        "times that suit their work and family life.",
    ),
    (
        "SWE",
        "10",
        "local",
        "pilot",
        "returned",
        None,
        "Older residents' councils shaping home care in Malmö",
        "City of Malmö",
        "Councils of older residents review home-care routines with managers and propose "
        "changes that the care teams test for three months.",
    ),
    (
        "FRA",
        "09",
        "local",
        "pilot",
        "published",
        "lyon",
        "Parents' cafés in Lyon primary schools",
        "Ville de Lyon",
        "Parents run a weekly café in the school, where they meet teachers informally and "
        "organise help with homework and school trips.",
    ),
    (
        "FRA",
        "06",
        "local",
        "planned>pilot>discontinued",
        "published",
        None,
        "Shared gardens on social housing estates in Lille",
        "Lille Métropole Habitat",
        "Tenants created and ran vegetable gardens on three estates with the landlord's "
        "caretakers and a gardening association.",
    ),
    (
        "FRA",
        "03",
        "local",
        "planned",
        "submitted",
        None,
        "Citizen mediators in Marseille neighbourhoods",
        "Ville de Marseille",
        "Residents trained in mediation help settle disputes between neighbours before they "
        "reach the police or the courts.",
    ),
    (
        "DEU",
        "08",
        "local",
        "pilot>embedded",
        "published",
        "pankow",
        "Volunteer-run neighbourhood libraries in Berlin-Pankow",
        "Pankow District Office",
        "Volunteers keep two small branch libraries open with the district's librarians, who "
        "handle the collection and training.",
    ),
    (
        "DEU",
        "04",
        "local",
        "pilot",
        "published",
        None,
        "Citizens' energy co-operative with the city of Freiburg",
        "City of Freiburg",
        "Residents invest in and co-manage solar panels on school and sports-hall roofs, with "
        "the city's energy agency as partner.",
    ),
    (
        "AUS",
        "10",
        "regional",
        "pilot>embedded",
        "published",
        "wa",
        "Local area coordination with people with disability in Western Australia",
        "Department of Communities, Western Australia",
        "Local coordinators work alongside people with disability and their families to plan "
        "support and connect them with their community.",
    ),
    (
        "AUS",
        "05",
        "local",
        "pilot",
        "submitted",
        None,
        "Bushcare volunteers restoring urban reserves in Brisbane",
        "Brisbane City Council",
        "Volunteer groups weed, replant and monitor bushland reserves under a plan agreed with "
        "council habitat officers.",
    ),
    (
        "NZL",
        "10",
        "national",
        "pilot>embedded",
        "published",
        "whanau",
        "Whānau Ora family-led care plans",
        "Te Puni Kōkiri",
        "Families set their own goals for health, education and housing and work with a "
        "navigator who brings the services together around them.",
    ),
    (
        "NZL",
        "03",
        "local",
        "planned>pilot",
        "returned",
        None,
        "Community patrols with Māori wardens in South Auckland",
        "New Zealand Police",
        "Māori wardens and community volunteers patrol town centres at night, working with the "
        "police to calm situations early.",
    ),
    (
        "KOR",
        "01",
        "local",
        "pilot>embedded",
        "published",
        "seoul",
        "Citizen participatory budgeting in Seoul",
        "Seoul Metropolitan Government",
        "A citizens' committee proposes, debates and votes on projects for part of the city "
        "budget, with district officials assessing feasibility.",
    ),
    (
        "KOR",
        "07",
        "local",
        "planned",
        "draft",
        None,
        "Community health volunteers visiting isolated older people in Busan",
        "Busan Metropolitan City",
        "Neighbourhood volunteers visit older people who live alone, check on their health and "
        "link them to the public health centre.",
    ),
    (
        "BEL",
        "05",
        "local",
        "pilot>discontinued>pilot",
        "published",
        "brussels",
        "Neighbourhood composting in Brussels",
        "Brussels Environment",
        "Residents run shared compost bins in parks and courtyards, trained and supplied by the "
        "region's environment agency.",
    ),
]

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
STAGE_REASONS = {
    ("planned", "pilot"): "Pilot approved by {lead} after the co-design workshops.",
    ("pilot", "embedded"): "Evaluation positive; now funded in the regular budget of {lead}.",
    ("pilot", "discontinued"): "Pilot funding ended and no budget line was found to continue.",
    ("discontinued", "pilot"): "Restarted as a pilot with a new grant and a smaller team.",
}
RETURN_REASONS = [
    "Please add the budget figures and say who funds the work after the pilot.",
    "The “who does what” table lists only professionals: say how residents take part.",
    "Add the evaluation you mention in the description, or say when it is due.",
    "Say which public body is accountable and how often it reports.",
]
PEOPLE = {"07": "patients", "09": "parents and pupils", "10": "service users and carers"}
ACTIVITIES = [
    (ActivityKind.MEETING, "Co-design workshop with {people} and staff of {lead}."),
    (ActivityKind.MEETING, "Steering group: progress, risks and next quarter's plan agreed."),
    (ActivityKind.NOTE, "Volunteer rota agreed for the next six months."),
    (ActivityKind.DOCUMENT, "Monitoring report shared with the steering group."),
    (ActivityKind.CONTACT, "Call with {lead} about funding for next year."),
    (ActivityKind.NOTE, "Participant survey: most would recommend taking part to others."),
]
ROLES = {
    "commission": "Decides with the public body what is funded and agrees the targets.",
    "design": "Shapes the service in workshops and tests the first versions.",
    "deliver": "Runs the activities week to week.",
    "assess": "Collects feedback and reviews the results each year.",
}
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


def _moment(day):
    return datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=datetime.UTC)


def _months_later(day, months):
    return day + datetime.timedelta(days=round(months * 30.4))


class Command(BaseCommand):
    help = "Load demo data and demo logins (DEBUG only; safe to run again)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates users with known passwords, so it only runs with DEBUG on "
                "(DEBUG=true; `make run` sets it). Never load demo data on a public server."
            )
        self.rng = random.Random(SEED)  # noqa: S311 - demo data, not secrets
        created = 0
        # Demo submissions and decisions would e-mail the demo people: send those nowhere.
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
            transaction.atomic(),
        ):
            people = self.people()
            organisations = self.organisations(people)
            for number, row in enumerate(INITIATIVES):
                created += self.initiative(number, row, people, organisations)
            survey_made = self.survey()

        if created or survey_made:
            self.stdout.write(
                f"Demo data loaded: {created} initiatives, "
                f"{'the' if survey_made else 'no new'} synthetic survey wave DEMO."
            )
        else:
            self.stdout.write("Demo data already loaded; nothing changed.")
        self.stdout.write("Demo logins (local development only):")
        for username, (password, _first, _last, role, what) in LOGINS.items():
            who = f"staff role: {role}; {what}" if role else f"citizens' group: {what}"
            self.stdout.write(f"  {username} / {password}  — {who}")
        self.stdout.write("Staff work in the admin at /admin/; groups use the site at /.")

    # People and organisations --------------------------------------------------------

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
            username: self._user(username, first, last, password=password, role=role)
            for username, (password, first, last, role, _what) in LOGINS.items()
        }
        for username, first, last in CASE_OFFICERS:
            people[username] = self._user(username, first, last, role=roles.CASE_OFFICER)
        return people

    def organisations(self, people):
        organisations = {}
        for key, (name, kind, country, verified) in ORGANISATIONS.items():
            admin = people["member"] if key == "kallio" else self._user(f"{key}.admin", "", "")
            organisation, _made = Organisation.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "country_id": country,
                    "verified": verified,
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
        country, sector, level, path, review, owner, title, lead, summary = row
        if Initiative.objects.filter(title=title).exists():
            return 0
        stages = path.split(">")
        days = self._dates(stages)
        organisation, author = organisations[owner] if owner else (None, people["staff"])
        officers = [people["staff"], people["officer.okafor"], people["officer.lindqvist"]]
        is_draft = review == ReviewStatus.DRAFT
        people_word = PEOPLE.get(sector, "residents")

        # Groups record new initiatives at "planned"; one already further on was recorded
        # by staff (who may start it at any stage).
        recorder = author if stages[0] == Stage.PLANNED else people["staff"]
        initiative = services.initiative_create(
            by=recorder,
            stage=stages[0],
            stage_date=days[0],
            created_at=_moment(days[0]),
            title=title,
            summary=summary,
            # A draft may still miss parts; that is what "submit" checks for.
            description="" if is_draft and number % 2 else self._description(lead),
            country=Country.objects.get(code=country),
            sector=Sector.objects.get(code=sector),
            level=level,
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
                reason=STAGE_REASONS[(before, after)].format(lead=lead),
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
        how = self.rng.choice(
            [
                "A steering group of participants and staff meets every quarter to agree "
                "priorities, review the results and decide what to change.",
                "Participants and staff plan the work together in monthly open meetings.",
                "A small team of volunteers coordinates the work with one officer.",
            ]
        )
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
        lead_partner = "user" if initiative.sector_id in PEOPLE else "citizen"
        cells = [("design", lead_partner), ("deliver", "professional")]
        cells += self.rng.sample(CELLS, self.rng.randint(1, 3))
        Participation.objects.bulk_create(
            Participation(
                initiative=initiative,
                phase=phase,
                partner_type=partner_type,
                level=LEVELS.get(partner_type, ParticipationLevel.COLLECTIVE),
                organisation=organisation if partner_type in ("community_group", "cso") else None,
                role=ROLES[phase],
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
        for kind, text in self.rng.sample(ACTIVITIES, self.rng.randint(2, 4)):
            Activity.objects.create(
                initiative=initiative,
                kind=kind,
                date=days[0] + datetime.timedelta(days=self.rng.randint(14, span)),
                author=author,
                text=text.format(lead=lead, people=people_word),
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
            reason = self.rng.choice(RETURN_REASONS)
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
