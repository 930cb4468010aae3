import pytest
from django.core.paginator import Paginator

from outfalls.core import pagination
from outfalls.registry.models import Outfall

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("ordering", ["code", "-name", "water_body__name", "-updated_at"])
def test_ids_first_pages_equal_plain_pages(monkeypatch, ordering):
    monkeypatch.setattr(pagination, "DEEP_PAGE_OFFSET", 0)
    rows = Outfall.objects.for_list().order_by(ordering, "pk")
    plain = Paginator(rows, 37, orphans=3)
    fast = pagination.IdsFirstPaginator(rows, 37, orphans=3)
    assert fast.num_pages == plain.num_pages > 3
    for number in plain.page_range:
        expected = [o.pk for o in plain.page(number)]
        got = fast.page(number)
        assert [o.pk for o in got] == expected
        # Related rows come along in the same query.
        assert all(o.county.name for o in got)
