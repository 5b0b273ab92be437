"""An initiative's audit trail for its group and staff: each saved version with the fields
that changed from the one before."""

import datetime

from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from core.api.errors import errors

from .. import history, rules
from ..models import Initiative
from ..serializers import HistoryRecordSerializer
from .common import PARENT_PARAMETER, InitiativePartViewSet


def _history_through_models():
    """The tables where simple-history keeps each historical record's tag lists."""
    history = Initiative.history.model
    models = {}
    for field in Initiative.TAG_FIELDS:
        relation = history._meta.get_field(f"historicalinitiative_{field}")
        models[field] = relation.related_model
    return models


_HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def _plain(value):
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


@extend_schema(parameters=[PARENT_PARAMETER])
@extend_schema_view(
    list=extend_schema(
        summary="The audit trail",
        description="Every saved version of the initiative, newest first: who, when, and "
        "which fields changed from the version before (with old and new values). For the "
        "owner organisation's members and staff; 404 for everyone else.",
        responses={200: HistoryRecordSerializer(many=True), **errors(400, 404)},
    ),
)
class HistoryViewSet(InitiativePartViewSet, mixins.ListModelMixin):
    serializer_class = HistoryRecordSerializer
    private = True
    queryset = Initiative.history.none()

    def get_queryset(self):
        return (
            Initiative.history.filter(id=self.parent().pk)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
        )

    def list(self, request, initiative_reference=None):
        page = list(self.paginate_queryset(self.get_queryset()))
        before = None
        if page:
            oldest = page[-1]
            before = (
                self.get_queryset()
                .filter(
                    Q(history_date__lt=oldest.history_date)
                    | Q(history_date=oldest.history_date, history_id__lt=oldest.history_id)
                )
                .first()
            )
        records = page + ([before] if before else [])
        ids = [record.history_id for record in records]
        tags = {}
        for field, through in _history_through_models().items():
            tags[field] = {}
            for history_id, code in through.objects.filter(history_id__in=ids).values_list(
                "history_id", "item__code"
            ):
                tags[field].setdefault(history_id, []).append(code)
        shows_people = rules.sees_people(request.user, self.parent())
        rows = []
        for index, record in enumerate(page):
            older = records[index + 1] if index + 1 < len(records) else None
            changes = [
                {"field": change.field, "old": _plain(change.old), "new": _plain(change.new)}
                for change in history.changes(record, older, tags=tags)
            ]
            rows.append(
                {
                    "history_id": record.history_id,
                    "history_date": record.history_date,
                    "type": _HISTORY_TYPES.get(record.history_type, "changed"),
                    "user": record.history_user.username
                    if record.history_user and shows_people
                    else None,
                    "reason": record.history_change_reason or None,
                    "changes": changes,
                }
            )
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
