"""Domain errors of the catalog and of its Open edX integration."""

from config.errors import DomainError


class CoursesError(DomainError):
    """Base class of the courses app's domain errors."""


class OpenEdxError(CoursesError):
    """A call to Open edX did not succeed."""


class OpenEdxNotConfigured(OpenEdxError):
    """The Open edX base URLs or the service account's OAuth2 credentials are not set."""


class OpenEdxTransientError(OpenEdxError):
    """Worth trying again later: connection refused, timeout, 429 or a 5xx answer."""


class OpenEdxThrottled(OpenEdxTransientError):
    """Open edX answered 429; ``wait_seconds`` is its Retry-After (None when it gave none)."""

    def __init__(self, message: str, *, wait_seconds: float | None = None) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


class OpenEdxRequestError(OpenEdxError):
    """Open edX refused the request (a 4xx other than 429) or answered something unusable.

    Trying again will not help until someone changes the request, the data or the setup.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class OpenEdxNotFound(OpenEdxRequestError):
    """Open edX answered 404: the course or run does not exist there."""


class InvalidCoursewareId(CoursesError):
    """A course run key is not of the form ``course-v1:ORG+NUMBER+RUN``."""


class CourseRunNotFound(CoursesError):
    """No course run with the given courseware id exists in this site."""

    http_status = 404


class CourseRunConflict(CoursesError):
    """The run cannot be imported or changed as asked without breaking existing data."""


class CopyNotRequested(CoursesError):
    """The run has no source run to copy in Open edX (it is not a contract run)."""
