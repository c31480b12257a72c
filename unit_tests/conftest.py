import pytest

from source_claude.components import forget_key_access


def pytest_configure(config: pytest.Config) -> None:
    # Deselected where the connector is manifest-only, as in the pull request's unit_tests/ (make upstream).
    config.addinivalue_line("markers", "package_only: tests what only the Python package does (docs: Where it runs)")


@pytest.fixture(autouse=True)
def fresh_organization():
    """Each test starts as a new sync would: nothing known of what the key reads, and no sync stopped."""
    forget_key_access()
    yield
    forget_key_access()
