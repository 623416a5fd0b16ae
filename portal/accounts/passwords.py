"""Password hashing with argon2id (OWASP ASVS 5.0, V11.4)."""

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# "strong" is RFC 9106's second recommended option (64 MiB, t=3, p=4), well above
# ASVS's floor of 19 MiB, t=2, p=1. "fast" exists only so the test suite can log
# in hundreds of times; production refuses it (see create_app).
PROFILES = {
    "strong": {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4},
    "fast": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


@cache
def _hasher(profile: str) -> PasswordHasher:
    return PasswordHasher(type=Type.ID, **PROFILES[profile])


def hasher() -> PasswordHasher:
    """The hasher for the configured profile."""
    return _hasher(current_app.config["PASSWORD_HASH_PROFILE"])


def hash_password(password: str) -> str:
    """Return an encoded argon2id hash of ``password``."""
    return hasher().hash(password)


def verify_password(encoded: str, password: str) -> bool:
    """Check ``password`` against ``encoded`` in constant work whether or not it matches."""
    try:
        return hasher().verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(profile: str) -> str:
    return _hasher(profile).hash("not-a-real-password")


def burn_verification_time(password: str) -> None:
    """Spend a verification's worth of time so unknown usernames answer as slowly."""
    verify_password(_dummy_hash(current_app.config["PASSWORD_HASH_PROFILE"]), password)


def needs_rehash(encoded: str) -> bool:
    """True when ``encoded`` was made with weaker parameters than today's."""
    try:
        return hasher().check_needs_rehash(encoded)
    except InvalidHashError:
        return True
