import pytest


@pytest.fixture
def studio(openedx_server):
    """The fake Open edX with the source run in Studio."""
    openedx_server.add_studio_run(
        "course-v1:UAI_SOURCE+ML101+SOURCE", title="Machine learning (source)"
    )
    return openedx_server


@pytest.fixture
def no_openedx(settings):
    """Open edX settings left unset, whatever the environment says."""
    for name in (
        "OPENEDX_API_BASE_URL",
        "OPENEDX_STUDIO_API_BASE_URL",
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID",
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET",
    ):
        setattr(settings, name, None)
