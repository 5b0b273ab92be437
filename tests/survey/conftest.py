import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Staff logins are made by factories; a slow hasher only slows the tests down.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
