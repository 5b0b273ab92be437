"""Building the POST data of the initiative form the way a browser would send it."""

import csv
import io

from survey.models import Item


def item_pk(question, code):
    return Item.objects.get(question__code=question, code=code).pk


def initiative_form_data(organisation, initiative=None, **overrides):
    data = {
        "title": "Parents online",
        "organisation": organisation.pk if organisation else "",
        "summary": "Young parents help each other on a moderated network.",
        "description": "Social workers moderate; parents answer each other's questions.",
        "country": "FIN",
        "sector": "10",
        "level": "local",
        "lead_public_body": "City of Espoo social services",
        "start_date": "2024-03-01",
        "end_date": "",
        "participants": "120",
        "version": str(initiative.version) if initiative else "",
        "objectives": [item_pk("reasons", "involvement")],
        "cell-design-citizen-level": "group",
        "cell-design-citizen-role": "Parents choose the topics",
        "cell-deliver-professional-level": "individual",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))
