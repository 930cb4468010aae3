import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_cache():
    """The portal caches its pages: each test starts without another test's pages."""
    cache.clear()
    yield
    cache.clear()
