from django.core.management.base import BaseCommand

from outfalls.registry.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the Datong demo data set: jurisdictions with real county boundaries, departments, approximate "
        "rivers and sections, discharge units, outfalls, unit links and demo accounts. Deterministic and "
        "idempotent: running it again creates nothing and changes nothing; existing users are left untouched."
    )

    def handle(self, *args, **options):
        load_demo(stdout=self.stdout)
