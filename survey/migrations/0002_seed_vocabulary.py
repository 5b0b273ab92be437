"""Seed the vocabulary of docs/DOMAIN.md: COFOG sectors, ISO countries, the three questions of
the OECD 2010 survey with their items, the OECD-2010 wave and its published values."""

from decimal import Decimal

from django.db import migrations

SECTORS = [
    ("01", "General public services", "Services généraux des administrations publiques"),
    ("02", "Defence", "Défense"),
    ("03", "Public order and safety", "Ordre et sécurité publics"),
    ("04", "Economic affairs", "Affaires économiques"),
    ("05", "Environmental protection", "Protection de l'environnement"),
    ("06", "Housing and community amenities", "Logements et équipements collectifs"),
    ("07", "Health", "Santé"),
    ("08", "Recreation, culture and religion", "Loisirs, culture et culte"),
    ("09", "Education", "Enseignement"),
    ("10", "Social protection", "Protection sociale"),
]

QUESTIONS = [
    ("reasons", 1, "Reasons for partnering", "Raisons du partenariat", [
        ("involvement", "Increase the involvement of citizens",
         "Accroître la participation des citoyens"),
        ("quality", "Achieve better quality service delivery",
         "Améliorer la qualité de la prestation des services"),
        ("costs", "Reduce production costs", "Réduire les coûts de production"),
        ("satisfaction", "Increase user satisfaction", "Accroître la satisfaction des usagers"),
    ]),
    ("barriers", 2, "Barriers", "Obstacles", [
        ("resources", "Shortage of resources", "Manque de ressources"),
        ("resistance", "Organisational resistance to change",
         "Résistance organisationnelle au changement"),
        ("incentives", "Lack of financial incentives", "Absence d'incitations financières"),
        ("evidence", "Lack of evidence of the potential benefits",
         "Manque de preuves des bénéfices potentiels"),
    ]),
    ("factors", 3, "Success factors", "Facteurs de réussite", [
        ("leadership", "Leadership and commitment from senior public officials",
         "Leadership et engagement des hauts responsables publics"),
        ("engagement", "Willingness to engage with users and citizens",
         "Volonté de dialoguer avec les usagers et les citoyens"),
        ("frameworks", "Clear accountability and financial frameworks",
         "Cadres clairs de responsabilité et de financement"),
        ("skills", "New skill sets and competencies for professionals",
         "Nouvelles compétences pour les professionnels"),
    ]),
]

# (question, item, published percent or None, note), from OECD (2011) Government at a Glance.
REFERENCE = [
    ("reasons", "involvement", "60", "Given jointly with better quality service delivery."),
    ("reasons", "quality", "60", "Given jointly with the involvement of citizens."),
    ("reasons", "costs", "23", ""),
    ("reasons", "satisfaction", None, "Not published in the text."),
    ("barriers", "resources", "42", ""),
    ("barriers", "resistance", "36", ""),
    ("barriers", "incentives", "31", ""),
    ("barriers", "evidence", "29", ""),
    ("factors", "leadership", None, "Not published; ranked 1st."),
    ("factors", "engagement", None, "Not published; ranked 2nd."),
    ("factors", "frameworks", "73", ""),
    ("factors", "skills", None, "Not published in the text."),
]


def country_rows():
    from django.utils import translation
    from django_countries import countries

    rows = []
    for alpha2, _name in countries:
        alpha3 = countries.alpha3(alpha2)
        if not alpha3:
            continue
        with translation.override("en"):
            name_en = str(countries.name(alpha2))
        with translation.override("fr"):
            name_fr = str(countries.name(alpha2))
        rows.append((alpha3, name_en, name_fr))
    return rows


def seed(apps, schema_editor):
    Sector = apps.get_model("survey", "Sector")
    Country = apps.get_model("survey", "Country")
    Question = apps.get_model("survey", "Question")
    Item = apps.get_model("survey", "Item")
    Wave = apps.get_model("survey", "Wave")
    ReferenceValue = apps.get_model("survey", "ReferenceValue")

    for code, en, fr in SECTORS:
        Sector.objects.update_or_create(
            code=code, defaults={"label": en, "label_en": en, "label_fr": fr}
        )
    for code, en, fr in country_rows():
        Country.objects.update_or_create(
            code=code, defaults={"name": en, "name_en": en, "name_fr": fr}
        )
    for code, order, en, fr, items in QUESTIONS:
        question, _ = Question.objects.update_or_create(
            code=code, defaults={"order": order, "label": en, "label_en": en, "label_fr": fr}
        )
        for position, (item_code, item_en, item_fr) in enumerate(items, start=1):
            Item.objects.update_or_create(
                question=question,
                code=item_code,
                defaults={"order": position, "label": item_en, "label_en": item_en,
                          "label_fr": item_fr},
            )
    title_en = "OECD Survey on Innovation in Public Services (2010)"
    title_fr = "Enquête de l'OCDE sur l'innovation dans les services publics (2010)"
    wave, _ = Wave.objects.update_or_create(
        code="OECD-2010",
        defaults={
            "year": 2010,
            "title": title_en,
            "title_en": title_en,
            "title_fr": title_fr,
            "notes": "Published values from OECD (2011), Government at a Glance 2011, ch. 50.",
        },
    )
    for question_code, item_code, percent, note in REFERENCE:
        item = Item.objects.get(question__code=question_code, code=item_code)
        ReferenceValue.objects.update_or_create(
            wave=wave,
            item=item,
            defaults={"percent": Decimal(percent) if percent else None, "note": note},
        )


def unseed(apps, schema_editor):
    apps.get_model("survey", "ReferenceValue").objects.filter(wave__code="OECD-2010").delete()
    apps.get_model("survey", "Wave").objects.filter(code="OECD-2010").delete()
    Item = apps.get_model("survey", "Item")
    for code, _order, _en, _fr, items in QUESTIONS:
        Item.objects.filter(question__code=code, code__in=[i[0] for i in items]).delete()
    apps.get_model("survey", "Question").objects.filter(
        code__in=[q[0] for q in QUESTIONS]
    ).delete()
    apps.get_model("survey", "Sector").objects.filter(code__in=[s[0] for s in SECTORS]).delete()
    apps.get_model("survey", "Country").objects.filter(
        code__in=[c[0] for c in country_rows()]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("survey", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
