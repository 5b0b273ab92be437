"""Sign-in by e-mail address, whatever its case, and one lockout identity per person."""

from django.contrib.auth.backends import ModelBackend


def sign_in_name(username):
    """The account name a typed sign-in name stands for.

    Sign-up names each account by its e-mail address in lower case; people type it as they
    like ("Ana.Virtanen@Example.fi"). Other user names (staff accounts) are taken as typed.
    """
    if username and "@" in username:
        return username.strip().lower()
    return username


def lockout_identity(request, credentials=None):
    """What the sign-in lockout (django-axes) counts failures against.

    The same normalisation as the backend's, so that "Ana@Example.fi" and "ana@example.fi"
    share one counter: changing the case of the address does not buy more attempts.
    """
    if credentials:
        typed = credentials.get("username")
    else:
        data = getattr(request, "data", None) or request.POST
        typed = data.get("username")
    return sign_in_name(typed)


class EmailBackend(ModelBackend):
    """Django's own backend, reading an e-mail address the way sign-up stores it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return super().authenticate(
            request, username=sign_in_name(username), password=password, **kwargs
        )
