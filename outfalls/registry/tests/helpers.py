"""Small helpers shared by the ledger tests."""

from outfalls.registry.choices import LifecycleStatus, RectificationStatus
from outfalls.registry.models import Outfall


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
