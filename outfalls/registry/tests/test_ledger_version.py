"""The ledger version (registry/ledger_version.py): database triggers change it with every insert, update
and delete of outfalls and unit links, through the ORM, queryset updates, raw SQL and executemany."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from outfalls.registry import ledger_version
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

pytestmark = pytest.mark.django_db


def changes(write):
    before = ledger_version.ledger_version()
    write()
    after = ledger_version.ledger_version()
    assert after and after != before
    return after


def test_the_triggers_are_installed():
    names = ledger_version.installed()
    if connection.vendor == "postgresql":
        expected = {"registry_ledger_bump", "registry_outfall_version", "registry_outfallunitlink_version"}
    else:
        expected = {
            f"{table}_version_{event}"
            for table in ledger_version.WATCHED
            for event in ("insert", "update", "delete")
        }
    assert expected <= set(names)


def test_every_kind_of_write_changes_the_version(ledger_version_at_once):
    outfall = Outfall.objects.order_by("id").first()
    table, links = Outfall._meta.db_table, OutfallUnitLink._meta.db_table
    seen = set()

    def seen_once(write):
        version = changes(write)
        assert version not in seen
        seen.add(version)

    # Outfalls: an instance saved, a queryset update, raw SQL that touches no timestamp, a copy inserted by
    # the ORM and deleted by raw SQL, bulk_create.
    seen_once(lambda: Outfall.objects.filter(pk=outfall.pk).update(name=outfall.name + "（改）"))
    outfall.refresh_from_db()
    outfall.name = outfall.name.removesuffix("（改）")
    seen_once(outfall.save)

    def raw_update():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET type_code = %s WHERE id = %s", ["QT", outfall.pk])

    seen_once(raw_update)
    copy = Outfall.objects.get(pk=outfall.pk)
    copy.pk = copy.id = copy.source_key = copy.national_code = None
    copy.code = ""
    seen_once(copy.save)

    def raw_delete():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [copy.pk])

    seen_once(raw_delete)
    # Links: bulk_create, executemany, an update and a delete through raw SQL, and the ORM's delete.
    unit = DischargeUnit.objects.order_by("id").first()
    seen_once(lambda: OutfallUnitLink.objects.bulk_create([OutfallUnitLink(outfall=outfall, unit=unit)]))
    others = list(Outfall.objects.order_by("id").values_list("id", flat=True)[1:4])

    def executemany():
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {links} (outfall_id, unit_id, role, via_channel, share_note, created_at)"
                " VALUES (%s, %s, 'owner', '', '', CURRENT_TIMESTAMP)",
                [(pk, unit.pk) for pk in others],
            )

    seen_once(executemany)

    def raw_link_update():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {links} SET role = 'shares' WHERE unit_id = %s", [unit.pk])

    seen_once(raw_link_update)
    seen_once(lambda: OutfallUnitLink.objects.filter(unit=unit, outfall_id__in=others).delete())


def test_a_rollback_leaves_the_version_and_postgresql_never_gives_one_twice(ledger_version_at_once):
    outfall = Outfall.objects.order_by("id").first()
    before = ledger_version.ledger_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        Outfall.objects.filter(pk=outfall.pk).update(name="回滚")
        inside = ledger_version.ledger_version()
        raise RuntimeError
    assert ledger_version.ledger_version() == before
    after = changes(lambda: Outfall.objects.filter(pk=outfall.pk).update(name="提交"))
    assert after != before
    if connection.vendor == "postgresql":  # from a sequence; on SQLite a rolled-back number can come again
        assert after != inside


def test_migrate_puts_back_triggers_a_table_rebuild_dropped():
    name = (
        "registry_outfall_version" if connection.vendor == "postgresql" else "registry_outfall_version_update"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP TRIGGER {name}" + (" ON registry_outfall" if connection.vendor == "postgresql" else "")
        )
    assert name not in ledger_version.installed()
    call_command("migrate", verbosity=0)
    test_the_triggers_are_installed()


def test_the_version_changes_at_commit_on_postgresql_and_with_each_row_on_sqlite(demo_db):
    outfall = Outfall.objects.order_by("id").first()
    before = ledger_version.ledger_version()
    with transaction.atomic():
        Outfall.objects.filter(pk=outfall.pk).update(name=outfall.name + "（改）")
        Outfall.objects.filter(pk=outfall.pk).update(name=outfall.name)
        inside = ledger_version.ledger_version()
        if connection.vendor == "postgresql":
            assert inside == before  # the version row is not locked before COMMIT
        else:
            assert inside != before  # row-level triggers, in the writer's transaction
    after = ledger_version.ledger_version()
    assert after != before
    if connection.vendor != "postgresql":
        assert after == inside
        return
    with connection.cursor() as cursor:  # one bump per transaction, however many statements
        cursor.execute("SELECT count(*) FROM registry_ledger_pending")
        assert cursor.fetchone()[0] == 0
