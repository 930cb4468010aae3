"""The REST API keeps its OpenAPI contract (/api/schema/): schemathesis generates valid and invalid requests for
every operation, for a city token and a county token, and every answer must be no 5xx, a documented status,
the documented content type and a body that validates against the documented schema.

Bounded (a fixed seed, a few examples per operation, no stateful phase) so it stays within a few minutes on two
cores; docs/api.md says how to run it wider.
"""

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.cache import caches
from django.core.management import call_command
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from outfalls.core import services
from outfalls.wsgi import application

#: A city-wide token and a county token (the two kinds of scope the API serves).
TOKEN_USERS = ("bureau", "pingcheng")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
#: Generated examples per operation and token, besides schemathesis' coverage cases (boundaries, wrong types,
#: missing fields). Kept small so that `make test` stays within its time on two cores with some 130 operations;
#: API_CONTRACT_EXAMPLES=200 fuzzes wider (docs/api.md).
EXAMPLES = int(os.environ.get("API_CONTRACT_EXAMPLES", "6"))
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20231,
        "generation": {"mode": "all", "max-examples": EXAMPLES},
        "phases": {"stateful": {"enabled": False}},
    }
)


def issue_token(user):
    """The API token a client would use for this user (the one place that knows how tokens are issued)."""
    _, key = services.issue_token(user, name="schemathesis")
    return key


@pytest.fixture(params=TOKEN_USERS)
def api_headers(request, db, demo_user):
    return {"Authorization": f"Token {issue_token(demo_user(request.param))}"}


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go straight to the WSGI application in this thread, inside the test's transaction: keep Django
    from closing the connection after each request, as its test client does. Afterwards forget the token
    endpoint's throttle counts (in the default cache), which would otherwise outlive the test."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
    caches["default"].clear()


def served_schema():
    """The OpenAPI document /api/schema/ serves, built the same way (test_the_served_schema_is_this_one)."""
    return SchemaGenerator().get_schema(request=None, public=True)


# Built at import (pytest-django has set Django up); schemathesis parametrizes one test per operation from it.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(served_schema(), default=str)), config=CONFIG)
schema.app = application


def test_the_served_schema_is_this_one(client_for):
    served = client_for("bureau").get("/api/schema/", {"format": "json"}).json()
    assert served == schema.raw_schema


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_contract(case, api_headers, wsgi_in_test_transaction):
    case.call_and_validate(headers=api_headers, checks=CHECKS)


def test_the_schema_builds_without_warnings(tmp_path):
    """drf-spectacular warns when it has to guess (an enum name clash, a serializer it cannot read, two components
    with one name): a generated client would then get hashed names. Every such warning fails here."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
