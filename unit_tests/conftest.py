import pytest

from source_claude.components import forget_key_access, forget_organization_paces


@pytest.fixture(autouse=True)
def fresh_organization_pace():
    """Each test starts as a new sync would: nothing learned about the organization's rate limit, under any clock."""
    forget_organization_paces()
    forget_key_access()
    yield
    forget_organization_paces()
    forget_key_access()
