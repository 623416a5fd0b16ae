"""Configuration read from the environment; see README.md, "Configuration"."""

import os
import re
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("PORTAL_INSTANCE_PATH", PROJECT_ROOT / "instance"))
# Versioned, compressed copies of static/ (portal/core/assets.py), made by `make setup`.
STATIC_BUILD_FOLDER = Path(os.environ.get("PORTAL_STATIC_BUILD", PROJECT_ROOT / "static-build"))


class ConfigurationError(RuntimeError):
    """Raised when the environment does not allow the app to start safely."""


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret_key() -> str:
    """Return the key kept in instance/, creating it on first start."""
    key_file = INSTANCE_PATH / "secret_key"
    if not key_file.exists():
        INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _secret_key(production: bool) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigurationError("SECRET_KEY must be set when PORTAL_ENV=production.")
    return _development_secret_key()


def _development_key_file(name: str, make) -> str:
    """A key kept in instance/, made once: written whole aside, then linked into place,
    so processes starting together on a fresh machine all read the one that won."""
    key_file = INSTANCE_PATH / name
    if not key_file.exists():
        INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
        draft = INSTANCE_PATH / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as opened:
            opened.write(make())
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return key_file.read_text().strip()


def _new_data_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _encryption_settings(production: bool) -> dict:
    """The keys of the encryption at rest (portal/core/crypto.py, docs/privacy.md).

    ``PORTAL_DATA_KEYS``: comma-separated Fernet keys, the first encrypts, all decrypt.
    ``PORTAL_INDEX_KEY``: the secret of the blind indexes (at least 32 characters).
    Outside production, missing keys are made once in instance/ (``data_key``,
    ``index_key``) and kept, so a development database stays readable across restarts;
    production refuses to start without them (``check_production``).
    """
    data_keys = tuple(
        key.strip() for key in os.environ.get("PORTAL_DATA_KEYS", "").split(",") if key.strip()
    )
    index_key = os.environ.get("PORTAL_INDEX_KEY", "").strip()
    if not production:
        data_keys = data_keys or (_development_key_file("data_key", _new_data_key),)
        index_key = index_key or _development_key_file(
            "index_key", lambda: secrets.token_urlsafe(32)
        )
    return {"PORTAL_DATA_KEYS": data_keys, "PORTAL_INDEX_KEY": index_key}


def _check_encryption_keys(config: dict, production: bool) -> None:
    from cryptography.fernet import Fernet

    data_keys, index_key = config.get("PORTAL_DATA_KEYS"), config.get("PORTAL_INDEX_KEY")
    if not production and not (data_keys and index_key):
        return
    if not data_keys or not index_key:
        raise ConfigurationError(
            "PORTAL_DATA_KEYS and PORTAL_INDEX_KEY must be set when PORTAL_ENV=production "
            "(docs/privacy.md, encryption at rest)."
        )
    for position, key in enumerate(data_keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigurationError(
                f"PORTAL_DATA_KEYS: key {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes); make one with `flask encryption new-key`."
            ) from None
    if len(index_key) < 32:
        raise ConfigurationError("PORTAL_INDEX_KEY must be at least 32 characters long.")


def development_database_url() -> str:
    """The SQLite file in instance/ used when DATABASE_URL is not set."""
    return f"sqlite:///{INSTANCE_PATH / 'portal.sqlite3'}"


def _rate_limit_storage_options(uri: str) -> dict:
    # A Redis that is down or unreachable must cost a login a fraction of a second before
    # Flask-Limiter falls back to per-process counters, not the system's connect timeout.
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return {}


def _proxy_hops() -> int:
    """How many proxies in front of the app append to X-Forwarded-For (docs/deploy.md)."""
    # TRUST_PROXY_HEADERS=1 is the older spelling of one trusted hop.
    default = "1" if _env_flag("TRUST_PROXY_HEADERS", False) else "0"
    value = os.environ.get("TRUST_PROXY_HOPS", default).strip()
    if not value.isdigit():
        raise ConfigurationError("TRUST_PROXY_HOPS must be a number of proxies: 0, 1, 2, ...")
    return int(value)


def _care_settings() -> dict:
    """How greetings and reset codes leave (docs/care.md, "Settings")."""
    return {
        "CARE_GATEWAY": os.environ.get("CARE_GATEWAY", "log"),
        "CARE_WEBHOOK_URL": os.environ.get("CARE_WEBHOOK_URL", ""),
        "CARE_WEBHOOK_TIMEOUT": float(os.environ.get("CARE_WEBHOOK_TIMEOUT", 10)),
        "CARE_MAX_ATTEMPTS": int(os.environ.get("CARE_MAX_ATTEMPTS", 5)),
        "CARE_RETRY_SECONDS": float(os.environ.get("CARE_RETRY_SECONDS", 300)),
    }


_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def _quiet_hours() -> str:
    """``SMS_QUIET_HOURS`` as ``HH:MM-HH:MM`` (company time), or "" when off (docs/sms.md)."""
    value = os.environ.get("SMS_QUIET_HOURS", "21:00-08:00").strip().replace(" ", "")
    if value.lower() in {"", "off", "none"}:
        return ""
    match = _QUIET_HOURS.match(value)
    if not match or match.group(1, 2) == match.group(3, 4):
        raise ConfigurationError(
            "SMS_QUIET_HOURS must be a span of the day like 21:00-08:00, or off."
        )
    return value


def _sms_settings() -> dict:
    """The SMS providers, their template registry, receipts and the sending rules (docs/sms.md)."""
    env = os.environ.get
    return {
        "SMS_TEMPLATES_FILE": env("SMS_TEMPLATES_FILE", ""),
        "SMS_TIMEOUT": float(env("SMS_TIMEOUT", 10)),
        "SMS_DAILY_CAP": int(env("SMS_DAILY_CAP", 3)),
        "SMS_QUIET_HOURS": _quiet_hours(),
        "SMS_RECEIPT_TOKEN": env("SMS_RECEIPT_TOKEN", ""),
        "SMS_RECEIPT_RATE_LIMIT": env("SMS_RECEIPT_RATE_LIMIT", "600 per minute"),
        "ALIYUN_SMS_ACCESS_KEY_ID": env("ALIYUN_SMS_ACCESS_KEY_ID", ""),
        "ALIYUN_SMS_ACCESS_KEY_SECRET": env("ALIYUN_SMS_ACCESS_KEY_SECRET", ""),
        "ALIYUN_SMS_SIGN_NAME": env("ALIYUN_SMS_SIGN_NAME", ""),
        "ALIYUN_SMS_REGION": env("ALIYUN_SMS_REGION", "cn-hangzhou"),
        "ALIYUN_SMS_ENDPOINT": env("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com"),
        "TENCENT_SMS_SECRET_ID": env("TENCENT_SMS_SECRET_ID", ""),
        "TENCENT_SMS_SECRET_KEY": env("TENCENT_SMS_SECRET_KEY", ""),
        "TENCENT_SMS_SDK_APP_ID": env("TENCENT_SMS_SDK_APP_ID", ""),
        "TENCENT_SMS_SIGN_NAME": env("TENCENT_SMS_SIGN_NAME", ""),
        "TENCENT_SMS_REGION": env("TENCENT_SMS_REGION", "ap-guangzhou"),
        "TENCENT_SMS_ENDPOINT": env("TENCENT_SMS_ENDPOINT", "https://sms.tencentcloudapi.com"),
    }


def _jobs_settings() -> dict:
    """The task queue and the stored reports (docs/jobs.md, "Settings")."""
    default_queue = f"sqlite:///{INSTANCE_PATH / 'queue.sqlite3'}"
    return {
        "JOBS_QUEUE_URL": os.environ.get(
            "JOBS_QUEUE_URL", os.environ.get("REDIS_URL", default_queue)
        ),
        "JOBS_WORKERS": int(os.environ.get("JOBS_WORKERS", 2)),
        # The worker (and the processes it starts) yields the CPU to the web service.
        "JOBS_NICENESS": int(os.environ.get("JOBS_NICENESS", 10)),
        "JOBS_FILE_HOURS": float(os.environ.get("JOBS_FILE_HOURS", 24)),
        "JOBS_HEARTBEAT_SECONDS": float(os.environ.get("JOBS_HEARTBEAT_SECONDS", 30)),
    }


def from_environment(overrides: dict) -> dict:
    """Build the Flask configuration from environment variables, then ``overrides``."""
    production = os.environ.get("PORTAL_ENV", "development") == "production"
    default_db = development_database_url()
    rate_limit_storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    config = {
        "PORTAL_ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "PORTAL_TIMEZONE": os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("PORTAL_DEFAULT_LOCALE", "zh"),
        "RATELIMIT_STORAGE_URI": rate_limit_storage,
        "RATELIMIT_STORAGE_OPTIONS": _rate_limit_storage_options(rate_limit_storage),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "IMPORTS_API_RATE_LIMIT": os.environ.get("IMPORTS_API_RATE_LIMIT", "60 per minute"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "30 per minute"),
        "LOGIN_USERNAME_RATE_LIMIT": os.environ.get("LOGIN_USERNAME_RATE_LIMIT", "30 per hour"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 8 * 1024 * 1024)),
        "SESSION_COOKIE_SECURE": _env_flag("SESSION_COOKIE_SECURE", production),
        "PASSWORD_HASH_PROFILE": os.environ.get("PASSWORD_HASH_PROFILE", "strong"),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "TRUST_PROXY_HEADERS": _env_flag("TRUST_PROXY_HEADERS", False),
        "TRUST_PROXY_HOPS": _proxy_hops(),
        "SQLITE_BUSY_TIMEOUT_MS": int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", 5000)),
        "QUERY_COUNT_HEADER": _env_flag("QUERY_COUNT_HEADER", False),
        "STATIC_BUILD_FOLDER": str(STATIC_BUILD_FOLDER),
        # Where people reach the portal, for the links in text messages (portal/core/links.py).
        "PORTAL_URL": os.environ.get("PORTAL_URL", ""),
        **_care_settings(),
        **_sms_settings(),
        **_jobs_settings(),
    }
    if "PORTAL_DATA_KEYS" not in overrides or "PORTAL_INDEX_KEY" not in overrides:
        config.update(_encryption_settings(production))
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(config["PORTAL_ENV"] == "production")
    return config


def check_production(config: dict) -> None:
    """Refuse settings that are only meant for development or tests."""
    if config["PORTAL_ENV"] != "production":
        _check_encryption_keys(config, production=False)
        return
    if not config.get("SECRET_KEY"):
        raise ConfigurationError("SECRET_KEY must be set when PORTAL_ENV=production.")
    if config["PASSWORD_HASH_PROFILE"] != "strong":  # noqa: S105 - a profile name
        raise ConfigurationError("PASSWORD_HASH_PROFILE must be 'strong' in production.")
    if config["SQLALCHEMY_DATABASE_URI"] == development_database_url():
        # A job started without the production environment would otherwise write here.
        raise ConfigurationError("DATABASE_URL must be set when PORTAL_ENV=production.")
    if 0 < len(config.get("SMS_RECEIPT_TOKEN", "")) < 16:
        # The token is the receipts' only credential (docs/sms.md): it must not be guessable.
        raise ConfigurationError("SMS_RECEIPT_TOKEN must be at least 16 characters long.")
    _check_encryption_keys(config, production=True)


DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "portal_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
    "LANGUAGES": ("zh", "en"),
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "BOOTSTRAP_SERVE_LOCAL": True,
    # HTML and JSON answers compressed when the client accepts it (Flask-Compress);
    # static files are compressed ahead of time (portal/core/assets.py).
    "COMPRESS_MIMETYPES": ["text/html", "application/json"],
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_MIN_SIZE": 500,
    "RATELIMIT_HEADERS_ENABLED": True,
    "PER_PAGE": 25,
    "DEMO_PASSWORD": "portal-demo",
}
