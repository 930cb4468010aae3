"""The ledger search's text: one row per outfall, written by database triggers only (docs/search.md)."""

from django.db import models

from .ledger import Outfall

# Joins the parts of an outfall's search text. A search term containing it cannot be answered from the
# joined text (it could match across two parts), so such a term takes the plain path.
SEPARATOR = "\n"


class OutfallSearch(models.Model):
    """What the ledger's ``q`` matches for one outfall, in one row: its name, code, national code and the names
    of its responsible entity and its linked units, joined by SEPARATOR.

    Database triggers (migration 0013) write it on every insert, update and delete of an outfall, a rename of
    a unit and every change of a unit link, whatever writes them (ORM, bulk imports, raw SQL). It is stored
    case-folded as the database's icontains folds, and indexed by its runs of one, two and three characters
    (SQLite: an FTS5 table; PostgreSQL: a GIN index). Nothing in Python writes these rows.
    """

    # The outfall's id, without a foreign-key constraint: the triggers delete the row with its outfall.
    outfall = models.OneToOneField(
        Outfall, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    text = models.TextField()

    # Rebuilt by triggers from the other tables: copying it would duplicate what they write (tests/demo_snapshot).
    maintained_by_triggers = True

    class Meta:
        verbose_name = "排污口检索文本"
        verbose_name_plural = "排污口检索文本"

    def __str__(self):
        return self.text
