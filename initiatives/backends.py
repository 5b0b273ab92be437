"""Sign-in by e-mail address, whatever its case."""

from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Django's own backend, reading an e-mail address the way sign-up stores it.

    Sign-up names each account by its e-mail address in lower case; people type it as they
    like ("Ana.Virtanen@Example.fi"). Other user names (staff accounts) are taken as typed.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and "@" in username:
            username = username.strip().lower()
        return super().authenticate(request, username=username, password=password, **kwargs)
