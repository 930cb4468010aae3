"""Write back national codes (国家统一编码) from a file of (local code, national code) pairs.

    python manage.py national_codes FILE.xlsx|FILE.csv [--dry-run] [--user USERNAME]

All or nothing (registry/national_codes.py): every refused row is printed with its number and nothing is
written. Runs as the city bureau's editor given by --user (default: the first active superuser).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from outfalls.registry import national_codes


class Command(BaseCommand):
    help = "从编码对照表回写国家统一编码（全部行通过才写入）。Write back national codes from a file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="编码对照表 .xlsx 或 .csv")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--user", help="以该用户回写（须为市生态环境局用户）")

    def handle(self, *args, file, dry_run=False, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        users = get_user_model().objects.filter(is_active=True)
        who = (
            users.filter(username=user).first()
            if user
            else users.filter(is_superuser=True).order_by("pk").first()
        )
        if who is None:
            raise CommandError("找不到回写用户，请用 --user 指定市生态环境局用户。")
        try:
            with path.open("rb") as handle:
                result = national_codes.write_back(handle, filename=path.name, user=who, dry_run=dry_run)
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        except national_codes.WriteBackError as error:
            for message in error.messages:
                self.stderr.write(message)
            raise CommandError(f"未写入：{len(error.messages)} 处需要修改。") from None
        verb = "将更新" if dry_run else "已更新"
        self.stdout.write(
            f"{path.name}：{result.rows} 行，{verb} {len(result.changed)} 个，已一致 {result.unchanged} 个。\n"
        )
