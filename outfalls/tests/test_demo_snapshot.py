"""The snapshot that transactional tests take the demo data back from (demo_snapshot.py, the demo_db fixture)."""

import pytest
from django.contrib.auth import get_user_model

from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

from . import demo_snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def counts():
    return (
        Outfall.objects.count(),
        DischargeUnit.objects.count(),
        OutfallUnitLink.objects.count(),
        get_user_model().objects.count(),
    )


def test_put_back_restores_rows_changed_deleted_and_added(demo_db):
    before = counts()
    first = Outfall.objects.order_by("pk").first()
    name = first.name
    assert before[0] > 100 and before[3] >= 8
    Outfall.objects.filter(pk=first.pk).update(name="改过的名称")
    OutfallUnitLink.objects.all().delete()
    get_user_model().objects.create_user("snapshot-extra", password="x")
    assert counts() != before

    demo_snapshot.put_back()

    assert counts() == before
    assert Outfall.objects.get(pk=first.pk).name == name
    assert not get_user_model().objects.filter(username="snapshot-extra").exists()
    # New rows after the put-back take fresh keys (PostgreSQL's sequences were reset past the snapshot's).
    user = get_user_model().objects.create_user("snapshot-after", password="x")
    assert user.pk > max(get_user_model().objects.exclude(pk=user.pk).values_list("pk", flat=True))
