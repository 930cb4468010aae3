"""Shared fixtures: the demo data loaded once per test session, users per role, a Chromium browser."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

DEMO_USERS = (
    "city_admin",
    "bureau",
    "pingcheng",
    "yunzhou",
    "chengguan",
    "enterprise",
    "river_chief",
    "auditor",
)


def pytest_collection_modifyitems(config, items):
    # Tests on a transactional database (live server, browser) flush every table when they end, which
    # would wipe the session's demo data: run them last, and have them put it back (the `demo_db` fixture).
    def flushes(item):
        return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))

    items.sort(key=flushes)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Password hashing is slow on purpose (PBKDF2, about 0.5 s a password); tests, which log in and fail
    logins by the dozen, hash with MD5 (as Django's testing docs advise). Production keeps PBKDF2."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# Tests run background jobs inline (the immediate backend) unless they start a real worker
# (outfalls/tests/workers.py), which switches to the database backend for its own test.
INLINE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(scope="session", autouse=True)
def inline_tasks():
    from django.test import override_settings

    with override_settings(TASKS=INLINE_TASKS):
        yield


@pytest.fixture(scope="session")
def django_db_setup(fast_password_hashing, django_db_setup, django_db_blocker):
    from outfalls.registry.demo import load_demo
    from outfalls.tests import demo_snapshot

    with django_db_blocker.unblock():
        load_demo(stdout=open(os.devnull, "w"))  # noqa: SIM115
        demo_snapshot.take()


@pytest.fixture
def demo_db(transactional_db):
    """The session's demo data, put back into a transactional test's database (the last such test flushed it)
    from the snapshot taken when the session loaded it: about a second instead of loading it again."""
    from outfalls.tests import demo_snapshot

    demo_snapshot.put_back()


@pytest.fixture
def demo_user(db):
    def get(username):
        return get_user_model().objects.get(username=username)

    return get


@pytest.fixture
def client_for(client, demo_user):
    """A test client logged in as one of the demo users."""

    def login(username):
        client.force_login(demo_user(username))
        return client

    return login


@pytest.fixture
def ledger_version_at_once(db):
    """On PostgreSQL the ledger version (registry/ledger_version.py) changes when a writing transaction
    commits, and a test's transaction never commits: have each write statement change it at once."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS registry_ledger_bump IMMEDIATE")
