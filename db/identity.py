"""Sender identity: keyed hashes everywhere, encrypted raw addresses only for reminders.

DESIGN.md section 3: sender ids are stored only as HMAC-SHA256 with a key from the
environment; a raw number is kept, encrypted, only when the person opts into a reminder.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


def sender_hash(hmac_key: str, channel: str, raw_id: str) -> str:
    """HMAC-SHA256 of ``channel:raw_id`` as 64 hex characters (stable, not reversible)."""
    message = f"{channel}:{raw_id.strip()}".encode()
    return hmac.new(hmac_key.encode(), message, hashlib.sha256).hexdigest()


def value_hash(hmac_key: str, purpose: str, value: str) -> str:
    """A keyed hash for other identifiers we must match but not store (case numbers in audits)."""
    return hmac.new(hmac_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    """One Fernet per secret key (deriving it costs a hash and a decode per call)."""
    digest = hashlib.sha256(b"recordcheck-recipient-v1:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_address(secret_key: str, raw_address: str) -> bytes:
    """Encrypt a phone number or chat id so only the worker can read it back."""
    return _fernet(secret_key).encrypt(raw_address.encode())


def decrypt_address(secret_key: str, token: bytes) -> str | None:
    """The raw address, or None when the token is damaged or was made with another key."""
    try:
        return _fernet(secret_key).decrypt(token).decode()
    except (InvalidToken, ValueError):
        return None
