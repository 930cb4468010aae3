"""Demo data for this app, loaded by manage.py load_demo after the ledger (registry.demo)."""


def load_demo(stdout):
    """Deterministic and idempotent, like the ledger's demo data."""
