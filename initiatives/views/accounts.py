"""Accounts, organisations and API tokens: sign-up, the account page, creating and joining a
group, and its admins managing members through the membership services."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import audit, services
from ..forms import (
    ApiTokenForm,
    JoinOrganisationForm,
    MembershipRoleForm,
    OrganisationForm,
    SignInForm,
    SignUpForm,
)
from ..models import ApiToken, Membership, Organisation
from .common import render_form

#: Sign in with the e-mail address (the account's username).
sign_in = LoginView.as_view(authentication_form=SignInForm)


def signup(request):
    if request.user.is_authenticated:
        return redirect("initiatives:dashboard")
    form = SignUpForm(request.POST or None)
    user = form.save() if request.method == "POST" and form.is_valid() else None
    if user is not None:
        login(request, user, backend="initiatives.backends.EmailBackend")
        messages.success(
            request, _("Welcome! Now create your group, or ask to join one that is already here.")
        )
        return redirect("initiatives:account")
    return render_form(request, "registration/signup.html", form)


@login_required
def account(request):
    user = request.user
    token_form = ApiTokenForm(request.POST or None, prefix="token")
    new_key = None
    if request.method == "POST" and token_form.is_valid():
        token, new_key = ApiToken.issue(user=user, name=token_form.cleaned_data["name"])
        audit.record_event(
            audit.TOKEN_CREATED, request=request, detail=f"{token.name} ({token.prefix})"
        )
        token_form = ApiTokenForm(prefix="token")
    context = {
        "memberships": Membership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name"),
        "tokens": user.api_tokens.order_by("revoked_at", "-created_at"),
        "token_form": token_form,
        "new_key": new_key,
    }
    response = render(request, "initiatives/account.html", context)
    if new_key:
        # The key is in this page only; keep it out of caches and history.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record_event(
            audit.TOKEN_REVOKED, request=request, detail=f"{token.name} ({token.prefix})"
        )
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("initiatives:account")


@login_required
def organisation_create(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = services.organisation_create(by=request.user, **form.cleaned_data)
        messages.success(
            request,
            _("“%(name)s” is created and you are its admin. You can now log initiatives.")
            % {"name": organisation.name},
        )
        return redirect("initiatives:dashboard")
    return render_form(request, "initiatives/organisation_form.html", form)


@login_required
def organisation_join(request):
    form = JoinOrganisationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        link = request.build_absolute_uri(
            reverse("initiatives:organisation", args=[organisation.pk])
        )
        try:
            services.membership_request(user=request.user, organisation=organisation, link=link)
        except ValidationError as error:
            form.add_error("organisation", error)
        else:
            messages.success(
                request,
                _("Your request to join “%(name)s” is sent. Its admins will answer it.")
                % {"name": organisation.name},
            )
            return redirect("initiatives:account")
    return render_form(request, "initiatives/organisation_join.html", form)


def _membership_of(user, organisation):
    return Membership.objects.filter(user=user, organisation=organisation).first()


@login_required
def organisation_detail(request, pk):
    """An organisation's members; its admins also manage them here."""
    organisation = get_object_or_404(Organisation, pk=pk)
    if not request.user.has_perm("initiatives.read_organisation_privately", organisation):
        raise Http404
    mine = _membership_of(request.user, organisation)
    is_admin = request.user.has_perm("initiatives.manage_members", organisation)
    memberships = organisation.memberships.select_related("user").order_by("status", "user__email")
    return render(
        request,
        "initiatives/organisation_detail.html",
        {
            "organisation": organisation,
            "is_admin": is_admin,
            "mine": mine,
            "active": [m for m in memberships if m.status == Membership.Status.ACTIVE],
            "pending": [m for m in memberships if m.status == Membership.Status.PENDING],
            "roles": Membership.Role.choices,
            "initiatives": organisation.initiatives.active().order_by("-updated_at"),
        },
    )


@login_required
@require_POST
def membership_change(request, pk, membership_pk):
    """Accept, decline, change the role of, or remove a member (admins), or leave (oneself).

    The services check who may, under the organisation's lock; this only asks early so that
    an outsider learns nothing about which memberships exist.
    """
    organisation = get_object_or_404(Organisation, pk=pk)
    own = Membership.objects.filter(pk=membership_pk, user=request.user).exists()
    if not own and not request.user.has_perm("initiatives.manage_members", organisation):
        raise PermissionDenied(_("Only the organisation's admins manage its members."))
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, organisation=organisation
    )
    action = request.POST.get("action")
    name = membership.user.get_full_name() or membership.user.get_username()
    try:
        if action == "accept":
            services.membership_accept(membership=membership, by=request.user)
            messages.success(request, _("%(name)s is now a member.") % {"name": name})
        elif action == "decline":
            services.membership_refuse(membership=membership, by=request.user)
            messages.success(request, _("%(name)s is no longer listed.") % {"name": name})
        elif action == "remove" or (action == "leave" and own):
            services.membership_remove(membership=membership, by=request.user)
            if own:
                messages.success(request, _("You left “%(name)s”.") % {"name": organisation.name})
                return redirect("initiatives:account")
            messages.success(request, _("%(name)s is no longer listed.") % {"name": name})
        elif action == "role":
            form = MembershipRoleForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose a valid role."))
            else:
                membership = services.membership_set_role(
                    membership=membership, by=request.user, role=form.cleaned_data["role"]
                )
                messages.success(
                    request,
                    _("%(name)s is now %(role)s.")
                    % {"name": name, "role": membership.get_role_display().lower()},
                )
        else:
            messages.error(request, _("Unknown action."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("initiatives:organisation", pk=organisation.pk)
