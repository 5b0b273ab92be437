"""The initiative admin's own pages: change the stage, edit the stage history, import a
register. Each asks its rule, then calls the service."""

import os
import secrets
import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext

from .. import services
from ..imports import import_initiatives
from ..jobs import register_import_start
from ..models import Stage
from .base import action_page, error_text, submitted_form
from .forms import RegisterImportForm, StageForm, StageHistoryForm, stale_message
from .initiative_actions import change_stage


class InitiativePages:
    """The pages of `InitiativeAdmin` beside its changelist and change form (mixed into it)."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_change_stage"
        stage_view = self.admin_site.admin_view(self.change_stage_view)
        history_view = self.admin_site.admin_view(self.stage_history_view)
        history_name = f"{self.opts.app_label}_{self.opts.model_name}_stage_history"
        import_view = self.admin_site.admin_view(self.import_view)
        import_name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        return [
            path("import/", import_view, name=import_name),
            path("<path:object_id>/change-stage/", stage_view, name=name),
            path("<path:object_id>/stage-history/", history_view, name=history_name),
            *super().get_urls(),
        ]

    def _tell_stale(self, request, initiative, opened):
        """Nothing was written: say so, and have `initiative` as it is now, for a fresh page."""
        initiative.refresh_from_db()
        self.message_user(request, stale_message(opened, initiative.version), messages.ERROR)

    def change_stage_view(self, request, object_id):
        """The change page's "Change stage" button: stage, date and reason, then the service."""
        initiative = self.get_object(request, unquote(object_id))
        if initiative is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not request.user.has_perm("initiatives.review_case", initiative):
            raise PermissionDenied
        change_url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
        form = submitted_form(StageForm, request, initial={"opened_version": initiative.version})
        status = 200
        if form.is_valid():
            try:
                change_stage(request, initiative, form)
            except services.StaleEdit:
                self._tell_stale(request, initiative, form.cleaned_data["opened_version"])
                form = StageForm(initial={"opened_version": initiative.version})
                status = 409
            except ValidationError as exc:
                self.message_user(request, error_text(exc), messages.ERROR)
            else:
                stage = Stage(form.cleaned_data["to_stage"]).label
                self.message_user(
                    request,
                    gettext("%(reference)s is now at the stage “%(stage)s”.")
                    % {"reference": initiative.reference, "stage": stage},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        response = action_page(
            self,
            request,
            [initiative],
            form,
            title=gettext("Change the maturity stage"),
            submit=gettext("Change stage"),
            description=gettext("It is now at the stage “%(stage)s”.")
            % {"stage": initiative.get_stage_display()},
            original=initiative,
            cancel_url=change_url,
        )
        response.status_code = status
        return response

    IMPORT_SESSION_KEY = "initiatives-register-import"

    def import_view(self, request):
        """Upload a register: a preview first (a dry run), then "Apply" imports the same file.

        The uploaded file waits in a temporary file, named in the session, between the two.
        A file over JOB_IMPORT_BYTES is previewed by a background job instead, whose page
        applies it as a second job (initiatives/jobs.py).
        """
        if not request.user.has_perm("initiatives.import_register"):
            raise PermissionDenied
        form = RegisterImportForm(request.POST or None, request.FILES or None)
        result, token, status = None, None, 200
        pending = request.session.get(self.IMPORT_SESSION_KEY) or {}
        if request.method == "POST" and request.POST.get("apply"):
            path = pending.get(request.POST["apply"])
            if path is None or not os.path.exists(path):
                self.message_user(
                    request, gettext("Choose the file again: the preview expired."), messages.ERROR
                )
                return HttpResponseRedirect(request.path)
            try:
                result = import_initiatives(path, by=request.user)
            finally:
                os.unlink(path)
                pending.pop(request.POST["apply"], None)
                request.session[self.IMPORT_SESSION_KEY] = pending
            form = RegisterImportForm()
            if result.written:
                self.message_user(request, str(result.summary()), messages.SUCCESS)
        elif request.method == "POST" and form.is_valid():
            upload = request.FILES["file"]
            if upload.size > settings.JOB_IMPORT_BYTES:
                job = register_import_start(owner=request.user, upload=upload, dry_run=True)
                return HttpResponseRedirect(reverse("admin:survey_job_change", args=[job.pk]))
            path = _keep_upload(upload)
            result = import_initiatives(path, by=request.user, dry_run=True)
            if result.ok:
                token = secrets.token_urlsafe(16)
                pending[token] = path
                request.session[self.IMPORT_SESSION_KEY] = pending
            else:
                os.unlink(path)
        if result is not None and not result.ok:
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Import a register of initiatives"),
            "form": form,
            "result": result,
            "token": token,
        }
        return TemplateResponse(
            request, "admin/initiatives/initiative/import.html", context, status=status
        )

    @staticmethod
    def _edit_history(request, initiative, form):
        data = form.cleaned_data
        operation = data["operation"]
        if operation == StageHistoryForm.RECORD:
            services.stage_history_record(
                initiative=initiative,
                to_stage=data["to_stage"],
                on=data["on"],
                by=request.user,
                reason=data["reason"],
                expected_version=data["opened_version"],
            )
        elif operation == StageHistoryForm.CORRECT:
            services.stage_history_correct(
                entry=data["entry"],
                by=request.user,
                reason=data["reason"],
                on=data["on"],
                to_stage=data["to_stage"] or None,
                expected_version=data["opened_version"],
            )
        elif operation == StageHistoryForm.REMOVE:
            services.stage_history_remove(
                entry=data["entry"],
                by=request.user,
                reason=data["reason"],
                expected_version=data["opened_version"],
            )
        else:
            services.stage_history_confirm(
                initiative=initiative, by=request.user, expected_version=data["opened_version"]
            )

    def stage_history_view(self, request, object_id):
        """The change page's "Stage history" button: record, correct, remove, confirm."""
        initiative = self.get_object(request, unquote(object_id))
        if initiative is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not request.user.has_perm("initiatives.review_case", initiative):
            raise PermissionDenied
        form = submitted_form(StageHistoryForm, request, initiative=initiative)
        status = 200
        opened = form.data.get("opened_version", "") if form.is_bound else ""
        if opened.isdigit() and int(opened) != initiative.version:
            # A page from before someone else's change (the entry it names may be gone).
            self._tell_stale(request, initiative, opened)
            form = StageHistoryForm(initiative=initiative)
            status = 409
        elif form.is_valid():
            try:
                self._edit_history(request, initiative, form)
            except services.StaleEdit:
                # Someone saved between the page's check and the write: all rolled back.
                self._tell_stale(request, initiative, form.cleaned_data["opened_version"])
                form = StageHistoryForm(initiative=initiative)
                status = 409
            except ValidationError as exc:
                self.message_user(request, error_text(exc), messages.ERROR)
                status = 400
            else:
                self.message_user(request, gettext("The stage history is saved."), messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        history = "; ".join(
            "{} ({})".format(
                entry.describe(),
                gettext("confirmed") if entry.is_confirmed else gettext("reported"),
            )
            for entry in initiative.stage_changes.order_by("changed_on", "changed_at", "pk")
        )
        response = action_page(
            self,
            request,
            [initiative],
            form,
            title=gettext("Stage history"),
            submit=gettext("Save"),
            description=gettext("As recorded: %(history)s.") % {"history": history},
            original=initiative,
            cancel_url=reverse("admin:initiatives_initiative_change", args=[initiative.pk]),
        )
        response.status_code = status
        return response


def _keep_upload(upload):
    """Copy an upload to a temporary file that outlives the request (until it is applied)."""
    handle, path = tempfile.mkstemp(prefix="coprod-register-", suffix=".upload")
    with os.fdopen(handle, "wb") as file:
        for chunk in upload.chunks():
            file.write(chunk)
    return path
