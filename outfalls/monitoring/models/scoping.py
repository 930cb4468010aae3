"""Scope of monitoring rows: a row at an outfall follows the outfall's visible_to/editable_by; a row at an
assessment section (shared reference data) is seen by every signed-in user and written by city editors."""

from django.db import models

from outfalls.core.scopes import scope_of
from outfalls.registry.models import Outfall


def point_q(user, *, editing=False, outfall="outfall", section="section"):
    """A Q for rows at outfalls (or sections) the user may see (or edit); None when nothing limits them."""
    scope = scope_of(user)
    if not scope.authenticated:
        return models.Q(pk__in=[])
    if scope.can_edit_citywide if editing else scope.citywide:
        return None
    outfalls = Outfall.objects.editable_by(user) if editing else Outfall.objects.visible_to(user)
    q = models.Q(**{f"{outfall}__in": outfalls.values("id")})
    if not editing and section:
        q |= models.Q(**{f"{outfall}__isnull": True, f"{section}__isnull": False})
    return q


class PointScopedQuerySet(models.QuerySet):
    outfall_field = "outfall"
    section_field = "section"

    def _scoped(self, user, editing):
        q = point_q(user, editing=editing, outfall=self.outfall_field, section=self.section_field)
        return self if q is None else self.filter(q)

    def visible_to(self, user):
        return self._scoped(user, False)

    def editable_by(self, user):
        return self._scoped(user, True)


class OutfallScopedQuerySet(PointScopedQuerySet):
    """Rows that always belong to an outfall (findings, loads)."""

    section_field = None
