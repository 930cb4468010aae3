"""Settings, read from environment variables with safe defaults (see docs/configuration.md)."""

import hashlib
import os
import string
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def _test_database_name(name):
    """The SQLite test database: a file (not memory, so a task worker started by a test shares it), in
    /dev/shm when the machine has it (as fast as memory), else beside the database."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        tag = hashlib.sha1(str(name).encode()).hexdigest()[:10]
        return shm / f"outfalls-{tag}-{name.stem}-test{name.suffix}"
    return name.with_name(f"{name.stem}-test{name.suffix}")


def database_from_url(url):
    """Turn DATABASE_URL into a Django DATABASES entry.

    sqlite:///path/to/db.sqlite3 (relative paths are under BASE_DIR) or
    postgresql://user:password@host:port/name, with ?host=/socket/dir for a Unix socket.
    """
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url.split(":///", 1)[1] if ":///" in url else "var/db.sqlite3"
        name = Path(path) if path.startswith("/") else BASE_DIR / path
        name.parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # The test database is a file beside it (not in memory), so that a real task worker started by
            # the tests (outfalls/tests/workers.py) reads and writes the same database.
            "TEST": {"NAME": _test_database_name(name)},
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        query = parse_qs(parsed.query)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": query.get("host", [parsed.hostname or ""])[0],
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": int(env("DATABASE_CONN_MAX_AGE", "60")),
        }
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme}")


def secret_key(debug):
    """SECRET_KEY, or the contents of the file SECRET_KEY_FILE names (`make run` makes var/secret_key once).

    Without either, a DEBUG run gets a development key and any other run refuses to start: a known key would
    let anyone forge sessions and password-reset links.
    """
    key = env("SECRET_KEY", "").strip()
    path = env("SECRET_KEY_FILE", "").strip()
    if not key and path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE {path} cannot be read: {error.strerror}") from None
    if key:
        return key
    if debug:
        return "dev-only-insecure-key-change-me"
    raise ImproperlyConfigured(
        "SECRET_KEY is not set and DEBUG is off: set SECRET_KEY (or SECRET_KEY_FILE) to a long random value "
        "(docs/deploy.md). 未设置 SECRET_KEY，平台拒绝启动。"
    )


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key(DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "outfalls.core",
    "outfalls.registry",
    "outfalls.maps",
    "outfalls.survey",
    "outfalls.remediation",
    "outfalls.permits",
    "outfalls.monitoring",
    "outfalls.supervision",
    "outfalls.portal",
    "outfalls.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "outfalls.portal.middleware.PortalHostMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the Chinese lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "outfalls.urls"
WSGI_APPLICATION = "outfalls.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "outfalls" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "outfalls.core.context_processors.platform",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env("DATABASE_URL", "sqlite:///var/db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Passwords (the admin, createsuperuser and the 账户 page's change form all run these).
PASSWORD_MIN_LENGTH = int(env("PASSWORD_MIN_LENGTH", "10"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "outfalls.core.security.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
]
# django-axes checks every login (page, admin, API token) against the lockout first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "outfalls" / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("SIMPLE_STATIC", True)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve static files straight from the app folders (no collectstatic step needed).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
ATTACHMENT_MAX_BYTES = int(env("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind nginx terminating TLS (docs/deploy.md): trust its X-Forwarded-Proto so that request.is_secure() and
# every absolute link (API pagination, OGC API links) say https. Only with a proxy that sets the header.
USE_X_FORWARDED_PROTO = env_bool("USE_X_FORWARDED_PROTO", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if USE_X_FORWARDED_PROTO else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# How many reverse proxies (nginx: 1) stand in front and append the client's address to X-Forwarded-For.
# 0: the address is REMOTE_ADDR. Login lockout and the token endpoint's throttle count per address with it.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))

# Login lockout (django-axes; outfalls/core/security.py). Failures count per user name and per client address
# within LOGIN_LOCKOUT_MINUTES; at the limit further logins (even with the right password) are refused until
# the time has passed or the city admin unlocks on /accounts/audit/.
LOGIN_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_ADDRESS_FAILURE_LIMIT = int(env("LOGIN_ADDRESS_FAILURE_LIMIT", "20"))
LOGIN_LOCKOUT_MINUTES = int(env("LOGIN_LOCKOUT_MINUTES", "30"))
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_HANDLER = "outfalls.core.security.LoginLockoutHandler"
AXES_LOCKOUT_CALLABLE = "outfalls.core.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "outfalls.core.security.client_ip"
# The platform keeps its own login audit (core.LoginEvent) and unlock page; axes only counts failures.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# API tokens (core.ApiToken): each login at /api/v1/auth/token/ issues a new one that lasts this many days.
API_TOKEN_LIFETIME_DAYS = int(env("API_TOKEN_LIFETIME_DAYS", "30"))
# HTTP Basic (user name and password) on the OGC API, for GIS clients without tokens (docs/ogcapi.md):
# "https" (default): only over HTTPS, or from this machine; "always": over plain HTTP too (an intranet without
# TLS, where the password crosses the network readable); "off": never.
OGCAPI_BASIC_AUTH = env("OGCAPI_BASIC_AUTH", "https").strip().lower()
if OGCAPI_BASIC_AUTH not in ("https", "always", "off"):
    raise ImproperlyConfigured("OGCAPI_BASIC_AUTH must be https, always or off.")
# A user's active tokens beyond this many: the oldest is revoked when a new one is issued.
API_TOKEN_MAX_PER_USER = int(env("API_TOKEN_MAX_PER_USER", "20"))

REST_FRAMEWORK = {
    # Token first: a missing, wrong, expired or revoked token is a 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "outfalls.core.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "outfalls.core.renderers.BrowsableAPIRenderer",
    ],
    # Bodies as JSON, form or multipart, a NUL character anywhere refused (outfalls/core/rest.py).
    "DEFAULT_PARSER_CLASSES": [
        "outfalls.core.rest.JSONParser",
        "outfalls.core.rest.FormParser",
        "outfalls.core.rest.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "outfalls.core.pagination.Pagination",
    "PAGE_SIZE": 50,
    # Strict query parameters, one error shape, documented errors (outfalls/core/rest.py, docs/api.md).
    "DEFAULT_FILTER_BACKENDS": ["outfalls.core.rest.FilterBackend"],
    "EXCEPTION_HANDLER": "outfalls.core.rest.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "outfalls.core.api_schema.AutoSchema",
    # Throttles: the token endpoint (per client address), see outfalls/core/api.py.
    "DEFAULT_THROTTLE_RATES": {"auth_token": env("API_TOKEN_THROTTLE_RATE", "10/minute")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "入河排污口监督管理平台 API",
    "DESCRIPTION": "River outfall supervision platform, REST API v1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "outfalls.core.api_schema.document_query_parameters",
    ],
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "outfalls.registry.choices.UnitKind",
        "WaterBodyKindEnum": "outfalls.registry.choices.WaterBodyKind",
        "SectionLevelEnum": "outfalls.registry.choices.SectionLevel",
        "JurisdictionLevelEnum": "outfalls.core.choices.JurisdictionLevel",
        # Named enums for a generated client (otherwise "StatusAacEnum" and a duplicate "DecidedMeasureEnum").
        "LifecycleStatusEnum": "outfalls.registry.choices.LifecycleStatus",
        "RectificationMeasureEnum": "outfalls.registry.choices.RectificationMeasure",
        "WaterClassEnum": "outfalls.registry.choices.WaterClass",
        "LimitKindEnum": "outfalls.monitoring.choices.LimitKind",
        "StationKindEnum": "outfalls.monitoring.choices.StationKind",
        "FindingKindEnum": "outfalls.monitoring.choices.FindingKind",
        "StandardKindEnum": "outfalls.monitoring.choices.StandardKind",
        "DimensionEnum": "outfalls.monitoring.choices.Dimension",
        "EnforcementKindEnum": "outfalls.supervision.choices.CaseKind",
        "EnforcementSourceEnum": "outfalls.supervision.choices.CaseSource",
        "EnforcementStatusEnum": "outfalls.supervision.choices.CaseStatus",
        "EnforcementOutcomeEnum": "outfalls.supervision.choices.Outcome",
        "BorrowingReportStatusEnum": "outfalls.supervision.choices.EntityReportStatus",
        "SetupDecisionOutcomeEnum": "outfalls.permits.choices.Outcome",
        "CitizenReportCategoryEnum": "outfalls.portal.choices.ReportCategory",
        "CitizenReportStatusEnum": "outfalls.portal.choices.ReportStatus",
        "CitizenReportLocationSourceEnum": "outfalls.portal.choices.LocationSource",
        "StatutoryReportKindEnum": "outfalls.reports.choices.ReportKind",
        "StatutoryReportStatusEnum": "outfalls.reports.choices.SubmissionStatus",
        # A draw item's "category" and a pool's "pool_class" (one name, now that citizen reports have a category).
        "InspectionClassEnum": "outfalls.monitoring.choices.InspectionClass",
        "ExchangeFieldStatusEnum": "outfalls.reports.exchange.STATUS_CHOICES",
        "ExchangeValueKindEnum": "outfalls.reports.exchange.KIND_CHOICES",
        "CampaignStatusEnum": "outfalls.survey.choices.CampaignStatus",
        "PointSourceEnum": "outfalls.survey.choices.PointSource",
        "PointOutcomeEnum": "outfalls.survey.choices.PointOutcome",
        "ExpertOutcomeEnum": "outfalls.survey.point_api.EXPERT_OUTCOMES",
        "FieldCheckOutcomeEnum": "outfalls.survey.point_api.CHECK_OUTCOMES",
        "TracingCaseStatusEnum": "outfalls.survey.choices.CaseStatus",
        "TracingStepKindEnum": "outfalls.survey.choices.StepKind",
        "ResponsibilityBasisEnum": "outfalls.registry.choices.ResponsibilityBasis",
        "ConclusionBasisEnum": "outfalls.survey.tracing_forms.CONCLUSION_BASES",
        "EntryModeEnum": "outfalls.registry.choices.EntryMode",
        "RectificationPlanStatusEnum": "outfalls.remediation.choices.PlanStatus",
        "AccountabilityKindEnum": "outfalls.remediation.choices.AccountabilityKind",
    },
}

FILTERS_EMPTY_CHOICE_LABEL = "全部"
# No 未填写 choice unless a filter asks for one on a field that may be empty (core/filters.py).
FILTERS_NULL_CHOICE_LABEL = None

# The platform's own settings ------------------------------------------------------------------------
PLATFORM_NAME = env("PLATFORM_NAME", "入河排污口监督管理平台")
# Administrative code of the city this install serves (its root jurisdiction). Datong by default.
CITY_CODE = env("CITY_CODE", "140200")
# Local outfall code (registry/coding.py): which segments, in order, and their widths.
OUTFALL_CODE_SEGMENTS = env_list("OUTFALL_CODE_SEGMENTS", "water_body,division,type,seq")
OUTFALL_CODE_SEPARATOR = env("OUTFALL_CODE_SEPARATOR", "-")
OUTFALL_CODE_DIVISION_DIGITS = int(env("OUTFALL_CODE_DIVISION_DIGITS", "6"))
OUTFALL_CODE_SEQ_WIDTH = int(env("OUTFALL_CODE_SEQ_WIDTH", "4"))
# The password the demo loader gives the demo accounts. Only `load_demo` uses it.
DEMO_PASSWORD = env("DEMO_PASSWORD", "Datong@2023")
# The provincial/national exchange structure (reports/exchange.py): a JSON file of sections and data elements;
# empty means the one shipped (reports/data/exchange_hj1314.json, HJ 1314 as far as known).
EXCHANGE_MAPPING = env("EXCHANGE_MAPPING", "")

# Disclosure (公开) rules: outfalls in these lifecycle states (and, when given, of these type codes) are public
# unless the city bureau decided otherwise for one (registry/disclosure.py, docs/portal.md).
DISCLOSURE_STATUSES = env_list("DISCLOSURE_STATUSES", "kept,rectifying")
DISCLOSURE_TYPE_CODES = env_list("DISCLOSURE_TYPE_CODES", "")

# The public portal (/public/, docs/portal.md).
PORTAL_HOST = env("PORTAL_HOST", "").strip()  # its own host name, e.g. hpk.example.gov.cn: only public pages
PORTAL_BASE_URL = env("PORTAL_BASE_URL", "").strip().rstrip("/")  # absolute links (sign QR codes, Open311)
PORTAL_TITLE = env("PORTAL_TITLE", "")  # default: "<city>入河排污口信息公开"
PORTAL_HOTLINE = env("PORTAL_HOTLINE", "12369")  # the 举报 phone number on the portal and the signs
PORTAL_CACHE_SECONDS = int(env("PORTAL_CACHE_SECONDS", "300"))
# Citizen reports (举报).
PORTAL_REPORT_DAYS = int(env("PORTAL_REPORT_DAYS", "15"))  # days to handle a report (its deadline)
PORTAL_NEAR_OUTFALL_M = float(env("PORTAL_NEAR_OUTFALL_M", "200"))  # the form asks "about this outfall?"
PORTAL_DUPLICATE_M = float(env("PORTAL_DUPLICATE_M", "50"))  # reports this close ...
PORTAL_DUPLICATE_DAYS = int(env("PORTAL_DUPLICATE_DAYS", "7"))  # ... and this recent are suggested to merge
PORTAL_PHOTO_MAX_BYTES = int(env("PORTAL_PHOTO_MAX_BYTES", str(10 * 1024 * 1024)))
PORTAL_REPORT_CHALLENGE_AFTER = int(
    env("PORTAL_REPORT_CHALLENGE_AFTER", "3")
)  # per hour, then a sum to solve
PORTAL_REPORT_LIMIT_PER_HOUR = int(env("PORTAL_REPORT_LIMIT_PER_HOUR", "10"))  # per client address
PORTAL_REPORT_LIMIT_PER_DEVICE = int(env("PORTAL_REPORT_LIMIT_PER_DEVICE", "5"))  # per device cookie
LEDGER_PAGE_SIZE = int(env("LEDGER_PAGE_SIZE", "50"))
# Background work (core/jobs.py, docs/architecture.md "Task queue"): the django-tasks backend. The default
# keeps tasks in the database and needs `manage.py db_worker` running (make run starts one);
# "django_tasks_rq.RQBackend" puts them on Redis (docs/deploy.md); the immediate backend runs them inline.
TASK_BACKEND = env("TASK_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASK_BACKEND, "QUEUES": ["default"]}}
# A worker runs each job in a child process whose address space is capped at this many MB (0: no cap), so a
# file that makes a reader allocate without end kills only that job.
TASK_MEMORY_LIMIT_MB = int(env("TASK_MEMORY_LIMIT_MB", "3072"))
TASK_ISOLATE = env_bool("TASK_ISOLATE", True)
# The worker beats a running job's heartbeat this often; a job without one for TASK_STALE_SECONDS (or whose
# worker process is gone) is marked failed, with 重试.
TASK_HEARTBEAT_SECONDS = float(env("TASK_HEARTBEAT_SECONDS", "5"))
TASK_STALE_SECONDS = float(env("TASK_STALE_SECONDS", "60"))
# Uploaded workbooks (registry/xlsx_guard.py) are refused before any reader opens them beyond these limits:
# rows, cells (their count and the rectangle from the first to the last), bytes once unzipped.
SPREADSHEET_MAX_ROWS = int(env("SPREADSHEET_MAX_ROWS", "500000"))
SPREADSHEET_MAX_CELLS = int(env("SPREADSHEET_MAX_CELLS", "10000000"))
SPREADSHEET_MAX_UNZIPPED_MB = int(env("SPREADSHEET_MAX_UNZIPPED_MB", "500"))
# Spatial checks (registry/checks.py): warn when an outfall lies farther than this from its declared
# receiving water; outfalls closer than SPATIAL_DUPLICATE_M to each other are possible duplicates.
SPATIAL_RIVER_WARN_M = float(env("SPATIAL_RIVER_WARN_M", "500"))
SPATIAL_DUPLICATE_M = float(env("SPATIAL_DUPLICATE_M", "30"))
# A level-2 field check says a suspected point repeats an outfall (survey/services.py): the forms offer the
# outfalls within SURVEY_DUPLICATE_RADIUS_M, and one farther than SURVEY_DUPLICATE_MAX_M is refused. These are a
# phone's GPS tolerance for a person's decision; SPATIAL_DUPLICATE_M is what the ledger calls a possible duplicate.
SURVEY_DUPLICATE_RADIUS_M = float(env("SURVEY_DUPLICATE_RADIUS_M", "100"))
SURVEY_DUPLICATE_MAX_M = float(env("SURVEY_DUPLICATE_MAX_M", "300"))
# Rectification rules (remediation/rules.py), from the city's plan: basins where industrial wastewater may not
# go to municipal plants (matched against WaterBody.basin), the village volume above which a central facility
# with one outfall is required, and words meaning an irrigation return passes an ecological facility first.
REMEDIATION_RESTRICTED_BASINS = env_list("REMEDIATION_RESTRICTED_BASINS", "桑干河,大清河")
REMEDIATION_VILLAGE_THRESHOLD_M3 = float(env("REMEDIATION_VILLAGE_THRESHOLD_M3", "500"))
REMEDIATION_ECO_FACILITY_WORDS = env_list(
    "REMEDIATION_ECO_FACILITY_WORDS", "生态沟渠,稳定塘,人工湿地,湿地,氧化塘,回用"
)
# Notices (通报: rectification and exceedance; core/documents.py), laid out after GB/T 9704: the issuing body's
# full name (empty: the root city's name + 生态环境局), its letterhead (发文机关标志; empty: the issuer + 文件), the document number
# (发文字号: {year} and {number}, the serial, which stays blank for the document office unless given), and the
# office printing it (印发机关 in the 版记; empty: the issuer + 办公室).
NOTICE_ISSUER = env("NOTICE_ISSUER", "").strip()
NOTICE_LETTERHEAD = env("NOTICE_LETTERHEAD", "").strip()
NOTICE_DOCUMENT_NUMBER = env("NOTICE_DOCUMENT_NUMBER", "同环发〔{year}〕{number}号").strip()
NOTICE_PRINTED_BY = env("NOTICE_PRINTED_BY", "").strip()
try:
    _notice_fields = {f for _, f, _, _ in string.Formatter().parse(NOTICE_DOCUMENT_NUMBER) if f is not None}
except ValueError as error:
    raise ImproperlyConfigured(f"NOTICE_DOCUMENT_NUMBER: {error}") from None
if not _notice_fields <= {"year", "number"}:
    raise ImproperlyConfigured("NOTICE_DOCUMENT_NUMBER may hold only {year} and {number}")
# Monitoring (monitoring/, docs/monitoring.md) ----------------------------------------------------------------
# Chronic exceedance: at least N of the last M judged values of one outfall and parameter over the limit.
MONITORING_CHRONIC_N = int(env("MONITORING_CHRONIC_N", "4"))
MONITORING_CHRONIC_M = int(env("MONITORING_CHRONIC_M", "6"))
# Missing required samples are looked for in the complete periods of the last this many months.
MONITORING_DUTY_MONTHS = int(env("MONITORING_DUTY_MONTHS", "12"))
# An online (automatic) monitoring duty is met on a day with at least this many hour values.
MONITORING_ONLINE_MIN_HOURS = int(env("MONITORING_ONLINE_MIN_HOURS", "20"))
# Dry weather (storm outfalls, 旱天溯源): a day with less rain than this (mm) in the outfall's county, and the
# days before it as many as set here too; online flow over MONITORING_DRY_FLOW_M3_PER_DAY on such a day is evidence.
MONITORING_DRY_RAIN_MM = float(env("MONITORING_DRY_RAIN_MM", "2"))
MONITORING_DRY_DAYS_BEFORE = int(env("MONITORING_DRY_DAYS_BEFORE", "2"))
MONITORING_DRY_FLOW_M3_PER_DAY = float(env("MONITORING_DRY_FLOW_M3_PER_DAY", "5"))
# The HJ 212 listener judges the outfalls whose hour or day values arrived at most this often (seconds; 0: never,
# leave it to `manage.py evaluate_exceedances`).
MONITORING_LISTENER_EVALUATE_SECONDS = float(env("MONITORING_LISTENER_EVALUATE_SECONDS", "300"))
# 双随机一公开 (monitoring/draws.py): the share of each class's outfalls drawn per draw ("class:rate,..."), the
# factor for counties with a section worse than its target (at most 100 %), and the inspectors per outfall.
MONITORING_DRAW_RATES = env_list(
    "MONITORING_DRAW_RATES", "industrial_mining:0.25,park_wwtp:0.25,municipal_wwtp:0.25,rural_facility:0.1"
)
MONITORING_DRAW_POOR_FACTOR = float(env("MONITORING_DRAW_POOR_FACTOR", "2"))
MONITORING_DRAW_INSPECTORS = int(env("MONITORING_DRAW_INSPECTORS", "2"))

# Setup review (permits/, docs/permits.md): the legal time limit in working days (UNSURE for the Order: past local
# practice), how close to flood works, a water intake or a dyke an outfall needs the water authority's opinion, and
# when the supervision page lists an approval condition as due soon.
PERMITS_DECISION_WORKING_DAYS = int(env("PERMITS_DECISION_WORKING_DAYS", "20"))
PERMITS_CONSULTATION_DISTANCE_M = float(env("PERMITS_CONSULTATION_DISTANCE_M", "1000"))
PERMITS_DUE_SOON_WORKING_DAYS = int(env("PERMITS_DUE_SOON_WORKING_DAYS", "5"))
PERMITS_CONDITION_DUE_SOON_DAYS = int(env("PERMITS_CONDITION_DUE_SOON_DAYS", "30"))
# Permit import (CSV/xlsx): rows per file.
PERMITS_IMPORT_MAX_ROWS = int(env("PERMITS_IMPORT_MAX_ROWS", "20000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Refused requests (403, 400 from a bad parameter) on one line with the user and reason, no traceback.
    "filters": {"refusals_on_one_line": {"()": "outfalls.core.log_filters.RefusalsOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"filters": ["refusals_on_one_line"]},
        # axes logs each failed login with the name and address masked; the login audit (core.LoginEvent) has them.
        "axes": {"level": "ERROR"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

# The map (maps/, docs/map.md) -------------------------------------------------------------------------
# Base layer: "offline" (the default: drawn from the platform's own jurisdictions and waters, nothing fetched
# from outside), "tianditu" (needs TIANDITU_KEY, a Tianditu browser key), "custom" (MAP_TILE_URL, e.g. an
# intranet tile server) or "none". core/basemap.py.
MAP_BASE_LAYER = env("MAP_BASE_LAYER", "offline").strip().lower()
TIANDITU_KEY = env("TIANDITU_KEY", "").strip()
MAP_TILE_URL = env("MAP_TILE_URL", "").strip()
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", "")
# Outfalls in the visible box: points from this zoom on while there are at most MAP_POINT_LIMIT of them,
# grid aggregates otherwise. Chain lines from MAP_CHAIN_MIN_ZOOM; at most MAP_UNIT_LIMIT units drawn.
MAP_POINT_LIMIT = int(env("MAP_POINT_LIMIT", "500"))
MAP_POINTS_MIN_ZOOM = int(env("MAP_POINTS_MIN_ZOOM", "12"))
MAP_CHAIN_MIN_ZOOM = int(env("MAP_CHAIN_MIN_ZOOM", "13"))
MAP_UNIT_LIMIT = int(env("MAP_UNIT_LIMIT", "1000"))
# How long simplified boundary/river/protected-area shapes stay cached (keyed by their content).
MAP_CACHE_SECONDS = int(env("MAP_CACHE_SECONDS", "86400"))
# Low-zoom aggregates of a user's whole filtered set are cached this long (keyed by a data version too).
MAP_AGGREGATE_CACHE_SECONDS = int(env("MAP_AGGREGATE_CACHE_SECONDS", "300"))
# The map's caches (simplified shapes, low-zoom aggregates) live in their own store, sized for them; any
# Django cache backend works (a shared one, e.g. Redis, serves every worker from one copy).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "maps": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "maps",
        "OPTIONS": {"MAX_ENTRIES": int(env("MAP_CACHE_ENTRIES", "20000"))},
    },
}


# Content-Security-Policy (django-csp; docs/configuration.md, "Script and formula injection" in
# docs/architecture.md). Scripts only from the platform's own static files: no inline <script>, no on*=
# handlers, no javascript: URLs, no eval. Style sheets only from static files too (no <style> element);
# style= attributes are allowed (style-src-attr), as Bootstrap's progress bars, ECharts' tooltips and some
# templates use them and an attribute cannot run script. Images from the platform, data: URIs (Bootstrap's
# icons) and the configured tile server; nothing else is fetched from outside.
TIANDITU_TILE_ORIGIN = "https://t{s}.tianditu.gov.cn"  # as in maps/config.TIANDITU_URL


def tile_source(url):
    """The CSP source that admits a Leaflet tile URL template: its scheme, host and port, with a "{s}"
    subdomain placeholder in the first label as "*". A relative URL (the platform itself) needs none."""
    parsed = urlparse(url.replace("{s}", "SUBDOMAIN"))
    if not parsed.scheme or not parsed.netloc:
        return None
    labels = parsed.netloc.split(".")
    if "SUBDOMAIN" in labels[0]:
        labels[0] = "*"
    return f"{parsed.scheme}://{'.'.join(labels)}"


def csp_tile_sources(base_layer, tianditu_key, tile_url):
    """img-src sources for the map's base layer as MAP_BASE_LAYER configures it (none: nothing)."""
    if base_layer == "tianditu" and tianditu_key:
        return [tile_source(TIANDITU_TILE_ORIGIN + "/")]
    if base_layer == "custom" and tile_url:
        return [source for source in [tile_source(tile_url)] if source]
    return []


# Read into module-private names: django-csp's system check refuses any Django setting named CSP_* (its pre-4.0
# settings), and `manage.py migrate`, `check` and the task worker run the system checks.
_csp_report_only = env_bool("CSP_REPORT_ONLY", False)
_csp_report_uri = env("CSP_REPORT_URI", "").strip()
_csp = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", *csp_tile_sources(MAP_BASE_LAYER, TIANDITU_KEY, MAP_TILE_URL)],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": _csp_report_uri or None,
    }
}
# CSP_REPORT_ONLY: the browser only reports what the policy would block (to try it on a running install).
CONTENT_SECURITY_POLICY = None if _csp_report_only else _csp
CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp if _csp_report_only else None
