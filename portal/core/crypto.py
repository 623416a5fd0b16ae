"""Encryption at rest of the sensitive numbers and the ID-card photos (docs/privacy.md).

Columns typed ``EncryptedText`` / ``EncryptedBytes`` hold Fernet tokens (AES-128-CBC with
an HMAC-SHA256, from the maintained ``cryptography`` library): the value is encrypted when
it is written and decrypted when it is read, whichever query wrote or read it. The keys
come from the app's configuration (``PORTAL_DATA_KEYS``, ``PORTAL_INDEX_KEY``, read once
in ``portal/settings.py``): the first data key encrypts, every listed key decrypts, so a
new key is put first and ``flask encryption rotate`` re-encrypts the stored rows with it.

Exact lookups cannot compare ciphertexts (the same number encrypts differently each
time), so each looked-up number has a blind index beside it: ``blind_index(value)``, an
HMAC-SHA256 of the normalised value under the index key. Equal numbers give equal
indexes; the index reveals nothing else without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import cached_property

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy.sql import operators


class DecryptionError(RuntimeError):
    """A stored value none of the configured data keys can decrypt."""


@dataclass(frozen=True)
class Keyring:
    """The parsed keys: built once per configuration, shared by every row."""

    data_keys: tuple[str, ...]
    index_key: str

    @cached_property
    def fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key.encode()) for key in self.data_keys])

    @cached_property
    def primary(self) -> Fernet:
        return Fernet(self.data_keys[0].encode())

    @cached_property
    def index_secret(self) -> bytes:
        return self.index_key.encode()


_KEYRINGS: dict[tuple[tuple[str, ...], str], Keyring] = {}


def keyring_for(config) -> Keyring:
    """The keyring of a configuration mapping (the app's config or ``from_environment``)."""
    data_keys = tuple(config.get("PORTAL_DATA_KEYS") or ())
    index_key = config.get("PORTAL_INDEX_KEY") or ""
    if not data_keys or not index_key:
        raise DecryptionError("PORTAL_DATA_KEYS and PORTAL_INDEX_KEY are not configured.")
    cache_key = (data_keys, index_key)
    found = _KEYRINGS.get(cache_key)
    if found is None:
        found = _KEYRINGS[cache_key] = Keyring(data_keys, index_key)
    return found


def keyring() -> Keyring:
    """The current app's keyring."""
    return keyring_for(current_app.config)


def generate_data_key() -> str:
    """A new data key, in the form ``PORTAL_DATA_KEYS`` takes."""
    return Fernet.generate_key().decode()


def valid_data_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return False
    return True


def normalise(value: str) -> str:
    """The form a number is indexed in: no surrounding spaces, an ID's x upper-case."""
    return value.strip().upper()


def blind_index(value: str, ring: Keyring | None = None) -> str:
    """The keyed hash (HMAC-SHA256, hex) of ``value``, for exact lookups."""
    secret = (ring or keyring()).index_secret
    return hmac.new(secret, normalise(value).encode(), hashlib.sha256).hexdigest()


def encrypt_text(value: str, ring: Keyring | None = None) -> str:
    return (ring or keyring()).primary.encrypt(value.encode()).decode("ascii")


def decrypt_text(token: str, ring: Keyring | None = None) -> str:
    try:
        return (ring or keyring()).fernet.decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as error:
        raise DecryptionError("A stored value cannot be decrypted with the keys.") from error


def encrypt_bytes(value: bytes, ring: Keyring | None = None) -> bytes:
    # Stored as the token's raw bytes: a third smaller than its base64 text.
    return base64.urlsafe_b64decode((ring or keyring()).primary.encrypt(value))


def decrypt_bytes(stored: bytes, ring: Keyring | None = None) -> bytes:
    try:
        return (ring or keyring()).fernet.decrypt(base64.urlsafe_b64encode(bytes(stored)))
    except InvalidToken as error:
        raise DecryptionError("A stored file cannot be decrypted with the keys.") from error


def rotate_text(token: str, ring: Keyring) -> str:
    """The same value under the first data key (already so: a new token all the same)."""
    try:
        return ring.fernet.rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as error:
        raise DecryptionError("A stored value cannot be decrypted with the keys.") from error


def rotate_bytes(stored: bytes, ring: Keyring) -> bytes:
    try:
        token = ring.fernet.rotate(base64.urlsafe_b64encode(bytes(stored)))
    except InvalidToken as error:
        raise DecryptionError("A stored file cannot be decrypted with the keys.") from error
    return base64.urlsafe_b64decode(token)


class _OnlyNullTests:
    """Comparisons SQL cannot make on ciphertext raise at once instead of finding nothing:
    only ``IS (NOT) NULL`` is allowed; a value is looked up by its blind index."""

    def operate(self, op, *other, **kwargs):
        null_test = op in (operators.is_, operators.is_not) or (
            op in (operators.eq, operators.ne) and other == (None,)
        )
        if not null_test:
            raise TypeError(
                f"{self.expr} is encrypted: SQL cannot compare it ({op.__name__}); "
                "look the value up by its blind index (portal/core/crypto.py)."
            )
        return super().operate(op, *other, **kwargs)


class EncryptedText(sa.types.TypeDecorator):
    """A string stored as a Fernet token; ``None`` stays ``None``.

    Only ``IS (NOT) NULL`` may be asked of such a column in SQL (anything else raises):
    look a value up by its blind index instead.
    """

    impl = sa.Text
    cache_ok = True

    class comparator_factory(_OnlyNullTests, sa.Text.Comparator):  # noqa: N801 - SQLAlchemy's name
        pass

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt_text(str(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt_text(value)


class EncryptedBytes(sa.types.TypeDecorator):
    """Bytes (a photo) stored as a Fernet token's raw bytes; ``None`` stays ``None``."""

    impl = sa.LargeBinary
    cache_ok = True

    class comparator_factory(_OnlyNullTests, sa.LargeBinary.Comparator):  # noqa: N801
        pass

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt_bytes(bytes(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt_bytes(value)
