"""Template helpers of the public site."""

from django import template
from django.conf import settings
from django.urls import get_script_prefix, translate_url
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def site_path(path):
    """A page path in the current language (`/fr/...` in French, unprefixed in English).

    For pages whose URL names belong to other apps and may not exist yet.
    """
    language = get_language() or settings.LANGUAGE_CODE
    prefix = "" if language == settings.LANGUAGE_CODE else f"{language}/"
    return f"{get_script_prefix()}{prefix}{path.lstrip('/')}"


@register.simple_tag(takes_context=True)
def translated_path(context, language):
    """This page's address (query included) in `language`; the home page if it has none."""
    request = context.get("request")
    if request is None:
        return site_path("/")
    translated = translate_url(request.get_full_path(), language)
    if translated == request.get_full_path() and language != get_language():
        prefix = "" if language == settings.LANGUAGE_CODE else f"{language}/"
        return f"{get_script_prefix()}{prefix}"
    return translated


@register.filter
def status_class(initiative):
    """A CSS modifier for the review status badge."""
    return f"status-{initiative.review_status}"


@register.filter
def basename(path):
    """The file name of a stored file, without its folders."""
    return str(path).rsplit("/", 1)[-1]
