from django.core.management.base import BaseCommand, CommandError

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.models import Jurisdiction
from outfalls.registry.checks import check_outfalls
from outfalls.registry.models import Outfall


class Command(BaseCommand):
    help = (
        "Run the spatial checks (protected areas, county boundary, section interval, distance to the "
        "receiving water, duplicates within 30 m) on every outfall, or on the outfalls of the given "
        "counties, replacing their findings and filling empty section intervals."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--county",
            action="append",
            default=[],
            metavar="CODE",
            help="Only the outfalls declared in this county (division code, e.g. 140213); repeatable.",
        )

    def handle(self, *args, **options):
        outfalls = None
        codes = options["county"]
        if codes:
            found = dict(
                Jurisdiction.objects.filter(code__in=codes, level__in=COUNTY_LEVELS).values_list(
                    "code", "name"
                )
            )
            missing = [c for c in codes if c not in found]
            if missing:
                raise CommandError(f"未找到县区代码：{'、'.join(missing)}")
            outfalls = Outfall.objects.filter(county__code__in=codes)
            self.stdout.write(f"县区：{'、'.join(found[c] for c in codes)}")
        report = check_outfalls(outfalls)
        for line in report.summary_lines():
            self.stdout.write(line)
