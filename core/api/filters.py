"""Query-string hygiene: no NUL bytes, no filter quietly ignored."""

from typing import TYPE_CHECKING, Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import filters as django_filters_filters
from django_filters.filterset import BaseFilterSet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class CleanQueryMixin(APIView):
    """Refuse query strings with NUL bytes before they reach a database that rejects them."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        for key, values in request.query_params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise exceptions.ValidationError(
                    {key.replace("\x00", ""): [_("Null characters are not allowed.")]}
                )


_BOOLEANS = {"true", "false"}


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, refusing what its forms would quietly ignore.

    A single-valued filter given twice, or a yes/no filter given something else than
    `true`/`false`, is a 400 rather than an unfiltered list that looks like an answer.
    """

    def get_filterset(
        self, request: Request, queryset: QuerySet[Model], view: APIView
    ) -> BaseFilterSet | None:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            problems: dict[str, list[StrOrPromise]] = {}
            for name, declared in filterset_class.base_filters.items():
                values = request.query_params.getlist(name)
                multiple = isinstance(
                    declared,
                    django_filters_filters.MultipleChoiceFilter
                    | django_filters_filters.ModelMultipleChoiceFilter,
                )
                if len(values) > 1 and not multiple:
                    problems[name] = [_("Give this filter once.")]
                elif isinstance(declared, django_filters_filters.BooleanFilter) and any(
                    value not in _BOOLEANS for value in values
                ):
                    problems[name] = [_("Use true or false.")]
            if problems:
                raise exceptions.ValidationError(problems)
        return super().get_filterset(request, queryset, view)
