import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_throttles():
    """The token endpoint's throttle counts in the default cache, which outlives a test: start and end empty."""
    cache.clear()
    yield
    cache.clear()
