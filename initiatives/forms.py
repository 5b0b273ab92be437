"""Forms of the public site: accounts, organisations, and logging an initiative."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from survey.models import Country, Item, country_choices

from . import rules, services
from .models import (
    AccountabilityFramework,
    Activity,
    BudgetFramework,
    Initiative,
    Membership,
    Organisation,
    ParticipationLevel,
    PartnerType,
    Phase,
    Stage,
    Visibility,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class SignInForm(AuthenticationForm):
    """Django's sign-in, asking for what accounts are made of: an e-mail address."""

    required_css_class = "required"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs.update(autocomplete="username", inputmode="email")


class SignUpForm(forms.Form):
    """E-mail and password; the e-mail is the username."""

    required_css_class = "required"

    # The address becomes the account's username, so it can be no longer than that field.
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=get_user_model()._meta.get_field("username").max_length,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "max_length": _(
                "Use an e-mail address of at most %(limit_value)d characters "
                "(this one has %(show_value)d)."
            )
        },
    )
    first_name = forms.CharField(
        label=_("Your name"), max_length=150, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )  # fmt: skip
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    ALREADY_REGISTERED = _(
        "An account with this e-mail address exists. Sign in, or reset the password."
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        users = get_user_model().objects
        if users.filter(email__iexact=email).exists() or users.filter(username=email).exists():
            raise forms.ValidationError(self.ALREADY_REGISTERED, code="exists")
        return email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            candidate = get_user_model()(
                username=cleaned.get("email", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
            )
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def save(self):
        """The new account; None, with the error on the form, when a sign-up with the same
        e-mail address was saved first (two requests at once pass `clean_email` together;
        the unique user name decides, and the savepoint keeps the transaction usable)."""
        data = self.cleaned_data
        try:
            with transaction.atomic():
                return get_user_model().objects.create_user(
                    username=data["email"],
                    email=data["email"],
                    password=data["password1"],
                    first_name=data.get("first_name", ""),
                )
        except IntegrityError:
            self.add_error("email", forms.ValidationError(self.ALREADY_REGISTERED, code="exists"))
            return None


class OrganisationForm(forms.ModelForm):
    required_css_class = "required"

    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = ["name", "kind", "country", "contact_name", "contact_email", "website"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [
            ("", _("Choose a country")),
            *country_choices(Country.objects.all()),
        ]


class JoinOrganisationForm(forms.Form):
    required_css_class = "required"

    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        empty_label=_("Choose an organisation"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.exclude(
            memberships__user=user
        ).order_by("name")


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class ApiTokenForm(forms.Form):
    required_css_class = "required"

    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Say what it is for, e.g. “weekly export script”."),
    )


class TagField(forms.ModelMultipleChoiceField):
    """A checkbox list of the items of one survey question."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, question, **kwargs):
        super().__init__(queryset=Item.objects.of_question(question), required=False, **kwargs)

    def label_from_instance(self, obj):
        return obj.label


class InitiativeForm(forms.ModelForm):
    """The record itself and its tags; the version guards against stale edits."""

    required_css_class = "required"

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    objectives = TagField(
        "reasons",
        label=_("Objectives"),
        help_text=_("Why the public body and its partners work together."),
    )
    barriers = TagField("barriers", label=_("Barriers met"))
    barriers_addressed = TagField(
        "barriers",
        label=_("Barriers addressed"),
        help_text=_("Of the barriers met, those the initiative has a plan for."),
    )
    factors = TagField("factors", label=_("Success factors"))

    SINCE_LABELS = {
        Stage.PLANNED: _("Planned since"),
        Stage.PILOT: _("Pilot since"),
        Stage.EMBEDDED: _("Embedded since"),
        Stage.DISCONTINUED: _("Discontinued since"),
    }

    class Meta:
        model = Initiative
        fields = [
            "title",
            "organisation",
            "summary",
            "description",
            "country",
            "sector",
            "level",
            "lead_public_body",
            "start_date",
            "end_date",
            "participants",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 6}),
            "start_date": DateInput(),
            "end_date": DateInput(),
        }
        help_texts = {
            "summary": _("One or two sentences that say what the initiative does."),
            "lead_public_body": _("The ministry, agency or council that leads on the public side."),
            "participants": _("About how many people take part."),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [
            ("", _("Choose a country")),
            *country_choices(Country.objects.all()),
        ]
        organisations = self.fields["organisation"]
        if rules.can_change_any(user):
            organisations.queryset = Organisation.objects.order_by("name")
        else:
            organisations.queryset = Organisation.objects.filter(
                memberships__user=user, memberships__status=Membership.Status.ACTIVE
            ).order_by("name")
            organisations.required = True
            organisations.empty_label = None
        organisations.help_text = _("The group that keeps this initiative up to date.")
        for name in services.SUBMISSION_FIELDS:
            # Optional in a draft, needed for review: said beside the field.
            field = self.fields[name]
            needed = _("Needed before you submit for review.")
            field.help_text = f"{field.help_text} {needed}" if field.help_text else needed
        if not self.instance.pk:
            # Where the initiative is today and when each stage began: its history as it
            # happened. A group's dates are reported until a case officer confirms them.
            self.fields["stage"] = forms.ChoiceField(
                label=_("Maturity stage"),
                choices=[(value, Stage(value).label) for value in services.creatable_stages(user)],
                initial=Stage.PLANNED,
                required=False,
                help_text=_("Where the initiative is today."),
            )
            for stage, label in self.SINCE_LABELS.items():
                self.fields[services.since_field(stage)] = forms.DateField(
                    label=label, required=False, widget=DateInput()
                )
            self.fields[services.since_field(Stage.PLANNED)].help_text = _(
                "Give the date each stage began, up to the current one; leave the current "
                "stage's date empty for today. Dates may be in the past, never in the future."
            )
            # Most groups work in their own country: start from it.
            first = organisations.queryset.first()
            if first is not None:
                self.fields["country"].initial = first.country_id
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["change_reason"] = forms.CharField(
                label=_("What changed, and why"),
                required=False,
                max_length=100,
                help_text=_("Optional. Kept in the history of this initiative with your edit."),
            )
            for name in Initiative.TAG_FIELDS:
                self.fields[name].initial = list(
                    getattr(self.instance, name).values_list("pk", flat=True)
                )

    def clean(self):
        cleaned = super().clean()
        # The rule is the model's (the service checks it again when saving); asking it here
        # lists its error with the form's others.
        tags = {
            name: cleaned[name] for name in Initiative.TAG_FIELDS if cleaned.get(name) is not None
        }
        try:
            self.instance.clean_tags(tags)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        if "stage" in self.fields:
            stage = self.initial_stage()
            dates = self.stage_dates()
            dates[stage] = dates.get(stage) or timezone.localdate()
            try:
                services.check_initial_history(stage=stage, dates=dates)
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    self.add_error(name if name in self.fields else None, messages)
        return cleaned

    def initial_stage(self):
        return self.cleaned_data.get("stage") or Stage.PLANNED

    def stage_dates(self):
        return services.stage_dates_from(self.cleaned_data)

    def record_fields(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def tags(self):
        return {name: self.cleaned_data.get(name) or [] for name in Initiative.TAG_FIELDS}

    def edit_reason(self):
        return self.cleaned_data.get("change_reason", "")


class ParticipationGridForm(forms.Form):
    """Who does what: one cell per phase and partner type, with a level and a role.

    An empty level means the partner type does not take part in that phase.
    """

    def __init__(self, *args, initiative=None, **kwargs):
        super().__init__(*args, **kwargs)
        existing = {}
        if initiative is not None and initiative.pk:
            existing = {(p.phase, p.partner_type): p for p in initiative.participations.all()}
        level_choices = [("", _("Not taking part")), *ParticipationLevel.choices]
        self.rows = []
        for phase in Phase:
            cells = []
            for partner in PartnerType:
                current = existing.get((phase.value, partner.value))
                level_name, role_name = self.names(phase.value, partner.value)
                self.fields[level_name] = forms.ChoiceField(
                    label=_("%(phase)s — %(partner)s: level")
                    % {"phase": phase.label, "partner": partner.label},
                    choices=level_choices,
                    required=False,
                    initial=current.level if current else "",
                )
                self.fields[role_name] = forms.CharField(
                    label=_("%(phase)s — %(partner)s: role")
                    % {"phase": phase.label, "partner": partner.label},
                    max_length=500,
                    required=False,
                    initial=current.role if current else "",
                    widget=forms.TextInput(attrs={"placeholder": _("Role (optional)")}),
                )
                cells.append((partner, level_name, role_name))
            self.rows.append((phase, cells))

    @staticmethod
    def names(phase, partner):
        return f"cell-{phase}-{partner}-level", f"cell-{phase}-{partner}-role"

    def clean(self):
        cleaned = super().clean()
        for phase in Phase:
            for partner in PartnerType:
                level_name, role_name = self.names(phase.value, partner.value)
                if cleaned.get(role_name) and not cleaned.get(level_name):
                    self.add_error(
                        level_name,
                        _("Choose a participation level, or clear the role."),
                    )
        return cleaned

    def grid_rows(self):
        """Rows for the template: the phase and its bound fields, one pair per partner type."""
        return [
            (phase, [(partner, self[level], self[role]) for partner, level, role in cells])
            for phase, cells in self.rows
        ]

    def cells(self):
        """The chosen cells: {(phase, partner type): (level, role)}."""
        chosen = {}
        for phase in Phase:
            for partner in PartnerType:
                level_name, role_name = self.names(phase.value, partner.value)
                level = self.cleaned_data.get(level_name)
                if level:
                    chosen[(phase.value, partner.value)] = (
                        level,
                        self.cleaned_data.get(role_name, ""),
                    )
        return chosen


class AccountabilityForm(forms.ModelForm):
    class Meta:
        model = AccountabilityFramework
        fields = [
            "accountable_body",
            "reporting_line",
            "reporting_frequency",
            "roles_written",
            "risk_arrangements",
            "probity_arrangements",
            "notes",
        ]
        widgets = {
            "risk_arrangements": forms.Textarea(attrs={"rows": 3}),
            "probity_arrangements": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class BudgetForm(forms.ModelForm):
    class Meta:
        model = BudgetFramework
        fields = [
            "amount",
            "currency",
            "funding_sources",
            "funded_beyond_pilot",
            "resources_transferred",
            "transferred_amount",
            "financial_incentives",
            "citizen_hours",
            "citizen_knowledge",
            "citizen_effort",
            "estimated_costs",
            "estimated_benefits",
            "evidence_level",
        ]
        widgets = {
            "funding_sources": forms.Textarea(attrs={"rows": 2}),
            "financial_incentives": forms.Textarea(attrs={"rows": 2}),
            "citizen_knowledge": forms.Textarea(attrs={"rows": 2}),
            "citizen_effort": forms.Textarea(attrs={"rows": 2}),
        }


class ActivityForm(forms.ModelForm):
    """A timeline entry; documents carry a file. Saved by `services.activity_create`."""

    required_css_class = "required"

    class Meta:
        model = Activity
        fields = ["kind", "date", "text", "file", "visibility"]
        widgets = {
            "date": DateInput(),
            "text": forms.Textarea(attrs={"rows": 4}),
            "visibility": forms.RadioSelect,
        }
        help_texts = {
            "file": _(
                "PDF, PNG, JPEG, Office/OpenDocument files or plain text, up to 10 MB. "
                "Whoever may read the entry can download it."
            )
        }

    def __init__(self, *args, user, initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.value, kind.label) for kind in services.WRITTEN_KINDS]
        allowed = rules.writable_visibilities(user, initiative)
        visibility = self.fields["visibility"]
        visibility.choices = [
            (value, label) for value, label in Visibility.choices if value in allowed
        ]
        # The page always sends the chosen button; a post without one takes the default.
        visibility.required = False
        self.default_visibility = rules.default_visibility(user, initiative)
        if not self.is_bound:
            self.initial["visibility"] = self.default_visibility

    def clean_visibility(self):
        return self.cleaned_data["visibility"] or self.default_visibility

    def entry_fields(self):
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class StageProposalForm(forms.Form):
    required_css_class = "required"

    to_stage = forms.ChoiceField(label=_("Proposed stage"), choices=Stage.choices)
    effective_on = forms.DateField(
        label=_("Since when?"),
        required=False,
        widget=DateInput(),
        help_text=_("The date the change took effect; leave empty for today."),
    )
    reason = forms.CharField(
        label=_("Why should the stage change?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A case officer reads this before confirming the change."),
    )

    def __init__(self, *args, initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [
            (value, label) for value, label in Stage.choices if value != initiative.stage
        ]
