import os

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import (
    StrictCharField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
    StrictSlugRelatedField,
)
from survey.models import Country, Item, Sector

from . import rules
from .models import (
    LONG_TEXT_LIMIT,
    PARTICIPANTS_LIMIT,
    AccountabilityFramework,
    Activity,
    ActivityKind,
    BudgetFramework,
    Initiative,
    Organisation,
    Participation,
    Stage,
    StageChange,
    StageProposal,
    Visibility,
)
from .services import WRITTEN_KINDS

TEXT_LIMIT = LONG_TEXT_LIMIT  # the models' one limit, for the bodies that are not models


def _code(model, help_text, **kwargs):
    return StrictSlugRelatedField(
        slug_field="code",
        queryset=model.objects.all(),
        help_text=help_text,
        error_messages={"does_not_exist": _("Unknown code “{value}”.")},
        **kwargs,
    )


def _tags(field):
    question = Initiative.TAG_QUESTIONS[field]
    return StrictSlugRelatedField(
        slug_field="code",
        queryset=Item.objects.of_question(question),
        many=True,
        required=False,
        help_text=f"Item codes of the survey question `{question}`.",
        error_messages={
            "does_not_exist": _("Unknown item “{value}” for this list."),
        },
    )


class CaseOfficerField(StrictPrimaryKeyRelatedField):
    """A staff account whose role reviews cases (`rules.case_officers`)."""

    def get_queryset(self):
        return rules.case_officers()


def sees_people(serializer, instance):
    """Whether the request's user sees who's who on the initiative of `instance`."""
    request = serializer.context.get("request")
    if request is None:
        return True  # not an answer to anyone: the services' own use
    is_initiative = isinstance(instance, Initiative)
    key = instance.pk if is_initiative else instance.initiative_id
    # Asked once per initiative of the answer, not once per row of a list.
    known = serializer.context.setdefault("_sees_people", {})
    if key not in known:
        initiative = instance if is_initiative else instance.initiative
        known[key] = rules.sees_people(request.user, initiative)
    return known[key]


class PeopleHiddenMixin:
    """Person fields (`PEOPLE_FIELDS`) go out as null to whoever does not see people."""

    PEOPLE_FIELDS = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not sees_people(self, instance):
            for name in self.PEOPLE_FIELDS:
                if name in data:
                    data[name] = None
        return data


class InitiativeSerializer(PeopleHiddenMixin, StrictModelSerializer):
    PEOPLE_FIELDS = ("case_officer",)

    country = _code(Country, "ISO 3166-1 alpha-3 code.")
    sector = _code(Sector, "COFOG division, `01` to `10`.")
    organisation = StrictPrimaryKeyRelatedField(
        queryset=Organisation.objects.all(),
        allow_null=True,
        required=False,
        help_text="The owner organisation (id). Members must give one they are active in.",
    )
    case_officer = CaseOfficerField(
        allow_null=True,
        required=False,
        help_text="The staff user following the case (id); only staff assign it.",
    )
    stage = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        help_text="Maturity stage. Set on creation only; afterwards use the `stage/` action, "
        "which keeps the stage history.",
    )
    planned_since = serializers.DateField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="On creation: the date the initiative was planned. Each `<stage>_since` is "
        "the date that stage began: never in the future, never before an earlier stage's; "
        "the current stage's defaults to today. Dates given by a group are reported until a "
        "case officer confirms them.",
    )
    pilot_since = serializers.DateField(
        write_only=True, required=False, allow_null=True, help_text="On creation: pilot since."
    )
    embedded_since = serializers.DateField(
        write_only=True, required=False, allow_null=True, help_text="On creation: embedded since."
    )
    discontinued_since = serializers.DateField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="On creation: discontinued since.",
    )
    participants = StrictIntegerField(
        min_value=0, max_value=PARTICIPANTS_LIMIT, allow_null=True, required=False
    )
    objectives = _tags("objectives")
    barriers = _tags("barriers")
    barriers_addressed = _tags("barriers_addressed")
    factors = _tags("factors")
    change_reason = StrictCharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Why (optional): kept with this edit in the initiative's history (`history/`).",
    )

    class Meta:
        model = Initiative
        fields = [
            "reference",
            "title",
            "summary",
            "description",
            "country",
            "sector",
            "level",
            "lead_public_body",
            "organisation",
            "case_officer",
            "stage",
            "planned_since",
            "pilot_since",
            "embedded_since",
            "discontinued_since",
            "review_status",
            "return_reason",
            "start_date",
            "end_date",
            "participants",
            "objectives",
            "barriers",
            "barriers_addressed",
            "factors",
            "change_reason",
            "version",
            "created_at",
            "updated_at",
            "submitted_at",
            "published_at",
        ]
        read_only_fields = [
            "reference",
            "review_status",
            "return_reason",
            "version",
            "created_at",
            "updated_at",
            "submitted_at",
            "published_at",
        ]

    def _user(self):
        return self.context["request"].user

    def validate_organisation(self, organisation):
        user = self._user()
        if rules.can_change_any(user):
            return organisation
        current = self.instance.organisation if self.instance else None
        if organisation == current and self.instance is not None:
            return organisation
        if organisation is None or organisation.pk not in rules.active_organisation_ids(user):
            raise serializers.ValidationError(
                _("Choose an organisation you are an active member of.")
            )
        return organisation

    def validate_case_officer(self, officer):
        current = self.instance.case_officer if self.instance else None
        if officer != current and not rules.can_review(self._user()):
            raise serializers.ValidationError(_("Only staff assign a case officer."))
        return officer

    def validate(self, attrs):
        creating_for_a_group = not rules.can_change_any(self._user())
        if self.instance is None and creating_for_a_group and "organisation" not in attrs:
            raise serializers.ValidationError(
                {"organisation": [_("Choose an organisation you are an active member of.")]}
            )
        return attrs

    def split(self):
        """The validated data as (plain fields, tag lists, reason) for the services."""
        fields = dict(self.validated_data)
        tags = {name: fields.pop(name) for name in Initiative.TAG_FIELDS if name in fields}
        return fields, tags, fields.pop("change_reason", "")


class ParticipationSerializer(StrictModelSerializer):
    organisation = StrictPrimaryKeyRelatedField(
        queryset=Organisation.objects.all(),
        allow_null=True,
        required=False,
        help_text="The partner organisation (id), where known.",
    )

    class Meta:
        model = Participation
        fields = ["id", "phase", "partner_type", "organisation", "level", "role"]


class AccountabilitySerializer(StrictModelSerializer):
    class Meta:
        model = AccountabilityFramework
        exclude = ["id", "initiative"]


class BudgetSerializer(StrictModelSerializer):
    benefit_cost_ratio = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        coerce_to_string=False,
        help_text="Estimated benefits over estimated costs; null without costs.",
    )

    class Meta:
        model = BudgetFramework
        exclude = ["id", "initiative"]


class ActivitySerializer(StrictModelSerializer):
    kind = serializers.ChoiceField(
        choices=ActivityKind.choices,
        help_text="Stage and review entries are written by the workflows, not by clients.",
    )
    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        required=False,
        help_text="Who reads the entry and its document: `public` (whoever reads the "
        "initiative), `group` (the owner organisation's members and staff) or `internal` "
        "(staff only). Members may give public or group, staff who annotate also internal. "
        "Left out: public for members of the owner organisation, group for staff.",
    )
    author = serializers.SerializerMethodField(
        help_text="Who wrote it: the username for the owner organisation's members and staff, "
        "the display name (full name, or null) for everyone else."
    )
    text = StrictCharField(max_length=TEXT_LIMIT)
    file = serializers.FileField(
        write_only=True, required=False, help_text="A document (multipart upload)."
    )
    author_name = serializers.SerializerMethodField(
        help_text="The author's display name, as the case page shows it (null without one)."
    )
    file_name = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "visibility",
            "date",
            "author",
            "author_name",
            "text",
            "file",
            "file_name",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_author(self, activity) -> str | None:
        if activity.author is None:
            return None
        if sees_people(self, activity):
            return activity.author.get_username()
        return activity.author.get_full_name() or None

    def get_author_name(self, activity) -> str | None:
        return activity.author.get_full_name() or None if activity.author else None

    def get_file_name(self, activity) -> str:
        return os.path.basename(activity.file.name) if activity.file else ""

    def validate_kind(self, kind):
        if kind not in WRITTEN_KINDS:
            raise serializers.ValidationError(
                _("Stage and review entries are written by the workflows.")
            )
        return kind


class StageChangeRequestSerializer(serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=Stage.choices, help_text="The new stage.")
    reason = StrictCharField(max_length=TEXT_LIMIT, allow_blank=True, required=False, default="")
    date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="When it took effect (a proposal's effective date); today when left out.",
    )


class StageChangeSerializer(PeopleHiddenMixin, StrictModelSerializer):
    PEOPLE_FIELDS = ("changed_by", "confirmed_by")
    changed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    confirmed = serializers.BooleanField(
        source="is_confirmed",
        read_only=True,
        help_text="False while the date is only reported by the group.",
    )

    class Meta:
        model = StageChange
        fields = [
            "id",
            "from_stage",
            "to_stage",
            "changed_on",
            "changed_at",
            "changed_by",
            "reason",
            "confirmed",
            "confirmed_at",
            "confirmed_by",
        ]


class StageHistoryEntrySerializer(serializers.Serializer):
    """Recording a past stage change, or correcting an entry (staff); the reason is required."""

    to_stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    date = serializers.DateField(required=False, help_text="The date the stage began.")
    reason = StrictCharField(max_length=TEXT_LIMIT, help_text="Why; kept in the history.")


class StageHistoryRemovalSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=TEXT_LIMIT, help_text="Why; kept in the history.")


class StageProposalSerializer(PeopleHiddenMixin, StrictModelSerializer):
    PEOPLE_FIELDS = ("proposed_by", "decided_by")
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StageProposal
        fields = [
            "id",
            "to_stage",
            "effective_on",
            "reason",
            "proposed_by",
            "proposed_at",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = ["status", "decided_at", "decision_note"]


class StageProposalDecisionSerializer(serializers.Serializer):
    accept = serializers.BooleanField(
        help_text="True to confirm the proposed stage (it is then written to the stage "
        "history), false to decline it."
    )
    note = StrictCharField(
        max_length=TEXT_LIMIT,
        allow_blank=True,
        default="",
        help_text="Why, for the group that proposed it.",
    )


class ReturnSerializer(serializers.Serializer):
    reason = StrictCharField(
        max_length=TEXT_LIMIT, help_text="What the group should change before resubmitting."
    )


class HistoryChangeSerializer(serializers.Serializer):
    field = StrictCharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryRecordSerializer(serializers.Serializer):
    id = StrictIntegerField(source="history_id")
    date = serializers.DateTimeField(source="history_date")
    type = serializers.ChoiceField(
        choices=[("created", "created"), ("changed", "changed"), ("deleted", "deleted")],
        help_text="What happened to the record.",
    )
    user = StrictCharField(allow_null=True, help_text="Username of who did it.")
    reason = StrictCharField(
        allow_null=True,
        help_text="Why, where it was said: a stage change's reason, an editor's note.",
    )
    changes = HistoryChangeSerializer(
        many=True, help_text="Fields that differ from the previous record."
    )


class OrganisationSerializer(StrictModelSerializer):
    country = _code(Country, "ISO 3166-1 alpha-3 code.")

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "kind",
            "country",
            "contact_name",
            "contact_email",
            "website",
            "verified",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def to_representation(self, organisation):
        data = super().to_representation(organisation)
        # Contact details are for staff and the organisation's own members.
        request = self.context.get("request")
        user = request.user if request else None
        member_of = self.context.get("member_of", set())
        if not (user and rules.can_read_all(user)) and organisation.pk not in member_of:
            data["contact_name"] = ""
            data["contact_email"] = ""
        return data

    def validate_verified(self, verified):
        current = self.instance.verified if self.instance else False
        if verified != current and not rules.can_verify(self.context["request"].user):
            raise serializers.ValidationError(_("Only staff verify organisations."))
        return verified


class RegisterImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The register, CSV (UTF-8) or XLSX, in the export's format (see the codebook)."
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Check the file and say what would happen; write nothing."
    )
    background = serializers.BooleanField(
        default=False,
        help_text="Run as a background job: the answer is 202 with the job; follow its `url`. "
        "A file over the server's JOB_IMPORT_BYTES always runs as one.",
    )


class RegisterRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The line of the file, or the row of the sheet.")
    reference = serializers.CharField()


class RegisterProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    where = serializers.CharField(help_text="`line 17` in a CSV file, `D17` in a sheet.")
    message = serializers.CharField()


class RegisterImportResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = RegisterRowSerializer(many=True)
    updated = RegisterRowSerializer(many=True)
    unchanged = RegisterRowSerializer(many=True)
    errors = RegisterProblemSerializer(many=True)
    error_count = serializers.IntegerField()
    summary = serializers.CharField()


class RegisterImportErrorsSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="`import_error` for a refused file; `validation_error` for a bad request."
    )
    message = serializers.CharField()
    details = serializers.JSONField(
        help_text="For `import_error`: the import's result (`errors` lists each problem with "
        "its line, column and where: `line 17` or `D17`); otherwise the fields' errors."
    )
