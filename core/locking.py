"""The version lock's one error, shared by every door.

Each editable record carries a `version`. A write names the version its author read and
succeeds only if it is still the stored one (a conditional UPDATE, `claim_version` in
`initiatives/services/common.py`). Otherwise it raises `StaleEdit`, which the site and the
admin show as the stale-edit message and the API answers as 412 with the current ETag.
"""


class StaleEdit(Exception):
    """Someone saved the record since the editor loaded it (or deleted it: no version)."""

    def __init__(self, current_version: int | None) -> None:
        super().__init__(current_version)
        self.current_version = current_version
