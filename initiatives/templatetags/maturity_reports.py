"""Links to the maturity reports and the case page's readiness and business-case panels.

{% load maturity_reports %}
<a href="{{ country|country_report_url }}">...</a>   or   {% country_link country %}
{% include "initiatives/_readiness.html" %}       needs `initiative`; shows only for pilots
{% include "initiatives/_business_case.html" %}   needs `initiative`
"""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.html import format_html

from initiatives import reports

register = template.Library()


def _code(country):
    return getattr(country, "code", None) or getattr(country, "pk", None) or str(country or "")


@register.filter
def country_report_url(country):
    """The country profile's address for a Country or an ISO3 code ("" if there is none)."""
    code = _code(country)
    if not code:
        return ""
    try:
        return reverse("reports:country", kwargs={"code": code})
    except NoReverseMatch:
        return ""


@register.simple_tag
def country_link(country):
    """The country's name linked to its profile."""
    url = country_report_url(country)
    name = getattr(country, "name", None) or str(country)
    if not url:
        return name
    return format_html('<a href="{}">{}</a>', url, name)


@register.filter
def readiness(initiative):
    """The embedding-readiness checklist of a pilot (None for other stages)."""
    return reports.readiness_of(initiative)


@register.filter
def business_case(initiative):
    """The initiative's budget framework (None when it has none)."""
    return reports.business_case(initiative)


@register.filter
def percent_or_dash(value):
    """A report percentage as printed on screen: `42.0%`, or `—` for no data."""
    if value is None or value == "":
        return "—"
    return f"{number_format(value, decimal_pos=1)}%"


@register.filter
def dash(value):
    """The value, or `—` when there is none."""
    if value is None or value == "":
        return "—"
    return value
