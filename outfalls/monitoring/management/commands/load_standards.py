"""Load the standards library (monitoring/data/standards.json, or another file) into the database."""

from django.core.management.base import BaseCommand, CommandError

from outfalls.monitoring import library


class Command(BaseCommand):
    help = "载入排放标准库（默认 monitoring/data/standards.json）；文件未变则不作改动。"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="标准库 JSON 文件")
        parser.add_argument("--force", action="store_true", help="即使文件未变也重新比对")

    def handle(self, *args, **options):
        try:
            load = library.load_library(options["file"], force=options["force"])
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(f"标准库文件无法载入：{error}") from None
        if load is None:
            self.stdout.write("标准库未变，未作改动。")
            return
        changes = "，".join(f"{k} {v}" for k, v in load.changes.items()) or "无变更"
        self.stdout.write(f"已载入标准库 {load.version}：{changes}。")
