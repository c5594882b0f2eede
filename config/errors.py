"""The base of every app's domain errors, and what an error says about itself to the web.

An app's errors (``B2BError``, ``EcommerceError``, ``CoursesError``) derive from ``DomainError``
and say, on their own class, which HTTP status fits them (``http_status``: 400 bad input, 403
not allowed, 404 unknown, 409 a state conflict, 429 throttled) and, for a throttle, when to try
again (``wait_seconds``). The API's error handler (``config.api.errors``) reads those and
so knows no app's classes."""


class DomainError(Exception):
    """A request that cannot be carried out; nothing was changed. The message is one line the
    person who asked can act on."""

    http_status = 409
    # A refusal that lapses by itself sets how long until the request may succeed (the API's
    # Retry-After); None for any other error.
    wait_seconds: float | None = None

    def api_details(self) -> dict[str, object]:
        """What the API adds to the error's body besides its code and message."""
        return {}
