"""What both apps' admin classes share: inline formsets whose controls are named, and the
admin of records nobody edits by hand."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext


class LabelledInlineFormSet(BaseInlineFormSet):
    """A tabular inline heads its columns but labels no control; each control gets its
    column's name and its row as an accessible name ("Level (row 2)")."""

    def add_fields(self, form: forms.BaseForm, index: int | None) -> None:
        super().add_fields(form, index)
        row = gettext("new row") if index is None else gettext("row %(n)s") % {"n": index + 1}
        for name, field in form.fields.items():
            if field.widget.is_hidden:
                continue
            label = capfirst(str(field.label or name))
            # The admin wraps related fields' widgets (the "+" and pencil links).
            widget: forms.Widget = getattr(field.widget, "widget", None) or field.widget
            widget.attrs.setdefault("aria-label", f"{label} ({row})")


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Records written by the application itself: staff read them, nobody edits them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
