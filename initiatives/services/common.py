"""What every workflow shares: the stale-edit error."""


class StaleEdit(Exception):
    """Someone saved the record since the editor loaded it."""

    def __init__(self, current_version):
        super().__init__(current_version)
        self.current_version = current_version
