"""Import an attachment-1 ledger table from the command line (the same pipeline as the web import)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from outfalls.geo.coords import CRS
from outfalls.registry import ledger_import
from outfalls.registry.models import LedgerImport


class Command(BaseCommand):
    help = (
        "Import an attachment-1 table (.xlsx, or .csv in UTF-8 or GBK). Exits 0 when every row is good; "
        "otherwise prints one line per bad row, writes nothing, and exits 1. Possible duplicates (an outfall "
        "of the same type within 30 m) need --duplicates new|update|skip."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--crs", choices=[c.value for c in CRS], default=CRS.CGCS2000.value)
        parser.add_argument("--dry-run", action="store_true", help="judge every row, change nothing")
        parser.add_argument(
            "--user", help="import as this user (scope applies); default: the first superuser"
        )
        parser.add_argument(
            "--duplicates",
            choices=sorted(ledger_import.DECISIONS),
            help="what to do with every possible duplicate",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        user = self._user(options["user"])
        with path.open("rb") as handle:
            record = LedgerImport(created_by=user, filename=path.name, crs=options["crs"])
            record.file.save(path.name, File(handle), save=False)
        record.save()
        try:
            preview = ledger_import.run_preview(record, user=user)
        except (ledger_import.LedgerImportError, PermissionDenied) as error:
            raise CommandError(str(error))
        counts = preview.counts
        summary = "，".join(
            f"{label} {counts[action]}" for action, label in ledger_import.Action.LABELS.items()
        )
        self.stdout.write(f"导入 #{record.pk}：共 {counts['rows']} 行（{summary}）")
        for row in record.report().iterator(chunk_size=2000):  # every row's report, not held in memory
            for message in row["messages"]:
                self.stdout.write(message)
            for note in row["notes"]:
                self.stdout.write(f"提示：{note}")
            if row["action"] == ledger_import.Action.DUPLICATE:
                near = "；".join(
                    f"{c['code']} {c['name']}（{c['distance_m']} 米）"
                    if "code" in c
                    else f"第 {c['row']} 行（{c['distance_m']} 米）"
                    for c in row["candidates"]
                )
                self.stdout.write(f"第 {row['row']} 行：疑似重复：{near}")
        errors, duplicates = counts[ledger_import.Action.ERROR], counts[ledger_import.Action.DUPLICATE]
        if errors:
            raise CommandError(f"有 {errors} 行错误，未写入任何数据。")
        if options["dry_run"]:
            self.stdout.write("试运行：未写入任何数据。")
            if duplicates and not options["duplicates"]:
                raise CommandError(f"有 {duplicates} 行疑似重复，导入时须用 --duplicates 指定处理方式。")
            return
        decisions = (
            {row["row"]: options["duplicates"] for row in record.report(ledger_import.Action.DUPLICATE)}
            if options["duplicates"]
            else {}
        )
        try:
            ledger_import.commit(record, user, decisions)
        except (ledger_import.LedgerImportError, PermissionDenied) as error:
            raise CommandError(str(error))
        record.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入：新增 {len(record.created_ids)} 个排口，更新 {len(record.updated_ids)} 个，"
                f"新增排污单位 {len(record.created_unit_ids)} 个。"
            )
        )

    def _user(self, username):
        User = get_user_model()
        if username:
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist:
                raise CommandError(f"用户不存在：{username}")
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
        if user is None:
            raise CommandError("没有可用的管理员账号；请用 --user 指定导入人。")
        return user
