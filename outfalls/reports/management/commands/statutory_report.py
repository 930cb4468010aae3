"""Make a statutory report (实施方案（十四））as .docx with its attachment-1 .xlsx, as of a date.

    python manage.py statutory_report survey|progress|summary --as-of YYYY-MM-DD [--county CODE] [--out DIR]

With --county, that county's report (what it wrote in the platform, if anything, and the ledger's figures as of
the date); without, the city's merged report. The files go to DIR (default: the current folder).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from outfalls.core.models import Jurisdiction
from outfalls.registry.ledger_export import parse_as_of

from ... import statutory
from ...choices import ReportKind
from ...models import StatutoryReport

KINDS = {"survey": ReportKind.SURVEY, "progress": ReportKind.PROGRESS, "summary": ReportKind.SUMMARY}


class Command(BaseCommand):
    help = (
        "生成工作报告（.docx）及附件信息汇总表（.xlsx）。Make a statutory report and its attachment-1 table."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", help="survey（排查溯源）、progress（整治进展）或 summary（整治总结）")
        parser.add_argument("--as-of", dest="as_of", required=True, help="数据截至日期 YYYY-MM-DD")
        parser.add_argument("--county", help="县区区划代码，如 140213；不填为全市汇总报告")
        parser.add_argument("--out", default=".", help="输出目录 (output folder)")

    def handle(self, *args, kind, as_of, county=None, out=".", **options):
        report_kind = KINDS.get(kind) or (ReportKind(kind) if kind in ReportKind.values else None)
        if report_kind is None:
            raise CommandError(f"报告类型“{kind}”无效，应为 survey、progress 或 summary。")
        day, error = parse_as_of(as_of)
        if error or day is None:
            raise CommandError(error or "请给出 --as-of 日期。")
        folder = Path(out)
        if not folder.is_dir():
            raise CommandError(f"输出目录不存在：{out}")
        if county:
            place = Jurisdiction.objects.counties().filter(code=county).first()
            if place is None:
                raise CommandError(f"找不到区划代码为 {county} 的县区。")
            subject = statutory.Subject(county=place)
            report = StatutoryReport.objects.filter(kind=report_kind, county=place).first()
            docx = statutory.build_docx(report_kind, day, subject, report)
            xlsx = statutory.build_xlsx(day, subject)
            stem = f"{place.name}{report_kind.label}-{day:%Y%m%d}"
        else:
            docx = statutory.build_city_docx(report_kind, day)
            xlsx = statutory.build_xlsx(day, statutory.Subject())
            stem = f"全市{report_kind.label}-{day:%Y%m%d}"
        (folder / f"{stem}.docx").write_bytes(docx)
        (folder / f"{stem}-信息汇总表.xlsx").write_bytes(xlsx)
        self.stdout.write(f"{folder / stem}.docx\n{folder / stem}-信息汇总表.xlsx\n")
