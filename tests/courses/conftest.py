import pytest


@pytest.fixture
def studio(openedx_server):
    """The fake Open edX with the source run in Studio."""
    openedx_server.add_studio_run(
        "course-v1:UAI_SOURCE+ML101+SOURCE", title="Machine learning (source)"
    )
    return openedx_server
