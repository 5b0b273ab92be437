"""The admin index's case-work box: how much waits behind each link."""

from django import template
from django.db.models import Count, Q

from ..models import Initiative, ReviewStatus, StageProposal

register = template.Library()


@register.simple_tag
def case_work_counts(user):
    """Two queries: the active initiatives waiting for review or assigned to `user`, and the
    open stage proposals."""
    counts = Initiative.objects.active().aggregate(
        waiting=Count("pk", filter=Q(review_status=ReviewStatus.SUBMITTED)),
        mine=Count("pk", filter=Q(case_officer=user)),
    )
    counts["proposals"] = StageProposal.objects.filter(status=StageProposal.Status.OPEN).count()
    return counts
