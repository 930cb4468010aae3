"""Demo data (see demo.py)."""


def load_demo(stdout):
    """Deterministic and idempotent: a second run creates nothing."""
