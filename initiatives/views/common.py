"""What every page of the site needs: an initiative looked up with the user's rights, the
user's organisations, and forms rendered with their errors."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from ..models import Initiative, Membership, Organisation


def visible_initiative(request, reference, queryset=None):
    """The initiative if the user may read it; otherwise 404, so drafts stay secret."""
    queryset = queryset if queryset is not None else Initiative.objects.all()
    return get_object_or_404(queryset.visible_to(request.user), reference=reference)


def editable_initiative(request, reference):
    """The initiative if the user may change it: 404 if unseen, 403 if only readable."""
    initiative = visible_initiative(
        request,
        reference,
        Initiative.objects.select_related("organisation").with_editable(request.user),
    )
    if not initiative.editable:
        raise PermissionDenied(_("Only members of the owner organisation can change this."))
    return initiative


def active_organisations(user):
    return Organisation.objects.filter(
        memberships__user=user, memberships__status=Membership.Status.ACTIVE
    )


def render_form(request, template, form, **context):
    """A page with one form; 400 when it comes back with errors."""
    status = 400 if form.errors else 200
    return render(request, template, {"form": form, **context}, status=status)


def apply_validation_error(form, error):
    """Show a service's ValidationError on the form: on its fields where it names them."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)
