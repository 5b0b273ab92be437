"""What changed between two saved versions of a record: the one diff behind the admin's
history pages and the API's audit trail of an initiative.

simple-history's `diff_against` compares the fields a form edits. The workflows also change
fields that no form edits (stage, review status, publication, archiving); they are added
here, so that neither door hides what a workflow did.
"""

from simple_history.models import ModelChange

from .models import Initiative

#: Always changing with any save; the history shows them as "when" and "who" instead.
NOISE = frozenset({"id", "updated_at", "updated_by"})


def changes(new, old, *, tags=None, readable=False):
    """The fields that differ from `old` to `new` (two historical records), sorted by name.

    `old=None` means `new` created the record: every field it set is a change from nothing.

    `tags` is `{tag field: {history_id: [item codes]}}` for records whose tag lists were read
    in one query per list (a page of the API's trail); without it, simple-history reads the
    tag lists of each record itself.

    `readable` gives choices as their labels and foreign keys as objects, for people (the
    admin); otherwise values are as stored (codes and ids, for programs).
    """
    if old is None:
        found = [
            ModelChange(field.name, None, value)
            for field in _plain_fields(new)
            if (value := getattr(new, field.attname)) not in (None, "")
        ]
    else:
        excluded = NOISE | set(Initiative.TAG_FIELDS) if tags is not None else NOISE
        delta = new.diff_against(old, excluded_fields=excluded, foreign_keys_are_objs=readable)
        found = [*delta.changes, *_workflow_changes(new, old, readable=readable)]
    if tags is not None:
        for field in Initiative.TAG_FIELDS:
            before = sorted(tags[field].get(old.history_id, [])) if old is not None else []
            after = sorted(tags[field].get(new.history_id, []))
            if before != after:
                found.append(ModelChange(field, before, after))
    found.sort(key=lambda change: change.field)
    return found


def _plain_fields(record):
    return [
        field
        for field in record.tracked_fields
        if field.name not in NOISE and not field.many_to_many
    ]


def _workflow_changes(new, old, *, readable):
    for field in _plain_fields(new):
        if field.editable or (readable and field.is_relation):
            continue  # diff_against has the editable ones; a person reads no raw ids
        before, after = getattr(old, field.attname), getattr(new, field.attname)
        if before != after:
            if readable:
                labels = dict(field.flatchoices)
                before, after = labels.get(before, before), labels.get(after, after)
            yield ModelChange(field.name, before, after)
