"""Small helpers shared by the ledger tests."""

from django.urls import reverse

from outfalls.registry.choices import LifecycleStatus, RectificationStatus
from outfalls.registry.models import LedgerImport, Outfall


def copy_as_new(outfall):
    """An unsaved copy of an outfall as a new ledger entry starts: verified, no measure, not registered, with no
    codes of its own (the state and approval fields belong to workflows and the city, not to a new entry)."""
    copy = Outfall.objects.get(pk=outfall.pk)
    copy.pk = copy.id = None
    copy.code, copy.national_code, copy.source_key = "", None, None
    copy.status = LifecycleStatus.VERIFIED
    copy.rectification_measure = ""
    copy.rectification_status = RectificationStatus.NOT_STARTED
    copy.merged_into = None
    return copy


def import_through_the_pages(client, path):
    """Upload a ledger file and confirm it, as a person does on the import pages; the committed import."""
    with open(path, "rb") as handle:
        client.post(reverse("registry:import_list"), {"file": handle, "crs": "cgcs2000"})
    record = LedgerImport.objects.latest("pk")
    client.post(reverse("registry:import_commit", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == LedgerImport.Status.COMMITTED, record.error
    return record
