"""Write the ledger as the attachment-1 table (信息汇总表): xlsx or CSV, live or as of a past date.

    python manage.py ledger_export OUT.xlsx|OUT.csv [--county CODE] [--as-of YYYY-MM-DD]
                                   [--user USERNAME] [--no-codes]

A command runs as the system: without --user it exports every outfall in the city. With --user it exports
what that user can see, exactly as their download button on the ledger page does.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from outfalls.core.models import Jurisdiction
from outfalls.registry import ledger_export


class Command(BaseCommand):
    help = "导出附件1格式的入河排污口信息汇总表（.xlsx 或 .csv）。Export the attachment-1 ledger table."

    def add_arguments(self, parser):
        parser.add_argument("out", help="输出文件，以 .xlsx 或 .csv 结尾 (output file, .xlsx or .csv)")
        parser.add_argument("--county", help="县区区划代码，如 140213 (county code)")
        parser.add_argument(
            "--as-of", dest="as_of", help="截至日期 YYYY-MM-DD：按变更历史导出该日结束时的台账"
        )
        parser.add_argument("--user", help="以该用户的查看范围导出 (export within this user's scope)")
        parser.add_argument(
            "--no-codes",
            action="store_true",
            help="不附加入河排污口编码、国家统一编码两列 (leave out the two code columns)",
        )

    def handle(self, *args, out, county=None, as_of=None, user=None, no_codes=False, **options):
        path = Path(out)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ledger_export.FORMATS:
            raise CommandError(f"输出文件须以 .xlsx 或 .csv 结尾：{out} (OUT must end in .xlsx or .csv)")
        if not path.parent.is_dir():
            raise CommandError(f"目录不存在：{path.parent} (no such directory)")

        day, error = ledger_export.parse_as_of(as_of)
        if error:
            raise CommandError(f"{error} (--as-of must be a date, e.g. 2023-09-30)")

        account = None
        if user:
            account = get_user_model().objects.filter(username=user).first()
            if account is None:
                raise CommandError(f"未找到用户“{user}” (unknown user {user})")

        place = None
        if county:
            place = ledger_export.county_by_code(county)
            if place is None:
                raise CommandError(f"未找到区划代码为 {county} 的县区 (unknown county code {county})")
            if (
                account is not None
                and not Jurisdiction.objects.visible_to(account).filter(pk=place.pk).exists()
            ):
                raise CommandError(
                    f"{place.name}不在用户“{user}”的查看范围内 ({county} is outside {user}'s scope)"
                )

        rows = ledger_export.outfall_rows(user=account, as_of=day)
        if place is not None:
            rows = rows.filter(county_id=place.pk)
        subject = ledger_export.export_subject(account, place)
        count = ledger_export.write_table(
            rows, path, fmt, title_subject=subject, as_of=day, with_codes=not no_codes
        )
        title = ledger_export.export_title(subject, day)
        self.stdout.write(f"已导出 {count} 个入河排污口：{path}（{title}）")
