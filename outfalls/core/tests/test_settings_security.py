"""Settings that keep a production install safe: no start without SECRET_KEY unless DEBUG, https links and
HSTS behind nginx."""

import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

SETTINGS = Path(django_settings.BASE_DIR) / "outfalls" / "settings.py"
KEY_VARIABLES = (
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "DEBUG",
    "USE_X_FORWARDED_PROTO",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_SSL_REDIRECT",
    "TRUSTED_PROXY_COUNT",
)


def load_settings(monkeypatch, **env):
    """Run settings.py afresh with these environment variables (the others as the test run has them)."""
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_no_secret_key_and_no_debug_refuses_to_start(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load_settings(monkeypatch)


def test_a_secret_key_from_the_environment_or_a_file(monkeypatch, tmp_path):
    assert load_settings(monkeypatch, SECRET_KEY="k" * 50)["SECRET_KEY"] == "k" * 50
    key_file = tmp_path / "secret_key"
    key_file.write_text("from-a-file-" + "x" * 40 + "\n")
    assert (
        load_settings(monkeypatch, SECRET_KEY_FILE=str(key_file))["SECRET_KEY"] == "from-a-file-" + "x" * 40
    )
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        load_settings(monkeypatch, SECRET_KEY_FILE=str(tmp_path / "missing"))


def test_debug_runs_with_a_development_key(monkeypatch):
    assert load_settings(monkeypatch, DEBUG="true")["SECRET_KEY"].startswith("dev-only")


def test_the_wsgi_process_itself_refuses(tmp_path):
    """What gunicorn would do: importing the WSGI application fails, with the reason."""
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "outfalls.settings"}
    done = subprocess.run(
        [sys.executable, "-c", "import outfalls.wsgi"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "SECRET_KEY is not set" in done.stderr


def test_proxy_and_hsts_settings_come_from_the_environment(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        SECRET_KEY="k" * 50,
        USE_X_FORWARDED_PROTO="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_SSL_REDIRECT="true",
        TRUSTED_PROXY_COUNT="1",
    )
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000 and loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert loaded["SECURE_SSL_REDIRECT"] and loaded["TRUSTED_PROXY_COUNT"] == 1
    assert loaded["REST_FRAMEWORK"]["NUM_PROXIES"] == 1
    defaults = load_settings(monkeypatch, SECRET_KEY="k" * 50)
    assert defaults["SECURE_PROXY_SSL_HEADER"] is None and defaults["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.django_db
def test_links_behind_nginx_are_https_with_hsts(client_for):
    client = client_for("bureau")
    with override_settings(
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), SECURE_HSTS_SECONDS=31536000
    ):
        response = client.get("/api/v1/outfalls/", {"page_size": 1}, HTTP_X_FORWARDED_PROTO="https")
        assert response.json()["next"].startswith("https://")
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    # Without the setting the header is not believed (a client could send it).
    plain = client.get("/api/v1/outfalls/", {"page_size": 1}, HTTP_X_FORWARDED_PROTO="https")
    assert plain.json()["next"].startswith("http://") and "Strict-Transport-Security" not in plain
