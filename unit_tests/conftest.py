import pytest

from source_claude.components import forget_key_access


@pytest.fixture(autouse=True)
def fresh_organization():
    """Each test starts as a new sync would: nothing known of what the key reads, and no sync stopped."""
    forget_key_access()
    yield
    forget_key_access()
