"""Domain errors of user accounts. Each message is a sentence the person can read and act on."""


class UsersError(Exception):
    """Base class: the request cannot be carried out; nothing was changed."""


class SsoAccountRefused(UsersError):
    """A single sign-on identity may not use the local account it points at."""


class ApiTokenRefused(UsersError):
    """An API token cannot be made for, or revoked from, this account (unknown, not staff)."""
