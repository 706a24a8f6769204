"""Console accounts without Flask: argon2 hashes, one-time setup links, lock-out, sessions.

Shared by the web views and ``recordcheck users``; callers own the transaction (commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models.console import ROLES, ConsoleSession, ConsoleUser

#: Wrong passwords in a row before an account is locked, and for how long.
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = dt.timedelta(minutes=15)
#: A one-time setup link lasts this long.
SETUP_LINK_LIFETIME = dt.timedelta(hours=72)
#: A signed-in browser is signed out after this long idle, and after the absolute limit anyway.
SESSION_IDLE = dt.timedelta(hours=2)
SESSION_ABSOLUTE = dt.timedelta(hours=12)
#: Long enough to resist guessing, short enough that hashing it is not a denial of service.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MAX_EMAIL_LENGTH = 254

#: A run of characters an address part may hold: no blanks, no markup or list marks, and no
#: control characters (PostgreSQL refuses a NUL in text, which made a sign-in a 500).
_ADDRESS_PART = r"[^@\s<>\"',;\x00-\x1f\x7f]+"
_EMAIL = re.compile(rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$")
_HASHER = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs the same time as a wrong
# password and response times do not reveal which accounts exist. Immutable once computed.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about an account cannot be done; the message is safe to show."""


@dataclass(frozen=True)
class LoginOutcome:
    """The user on success; otherwise None, with why (for the audit, never for the page)."""

    user: ConsoleUser | None
    reason: str


def normalize_email(raw: str) -> str:
    """Trim and lower-case an email, or raise AccountError when it cannot be one."""
    email = raw.strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise AccountError("Enter a valid email address.")
    return email


def check_password_rules(password: str) -> None:
    """Raise AccountError when a new password is too short, too long or blank."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if not password.strip():
        raise AccountError("The password cannot be only spaces.")


def hash_password(password: str) -> str:
    """An argon2id hash with the library's recommended parameters."""
    return _HASHER.hash(password)


def token_digest(token: str) -> str:
    """SHA-256 of a random token: what we store instead of the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_user(session: Session, email: str) -> ConsoleUser | None:
    """The account with this email (case-insensitive), if any."""
    try:
        normalized = normalize_email(email)
    except AccountError:
        return None
    return session.scalar(select(ConsoleUser).where(ConsoleUser.email == normalized))


def create_user(
    session: Session, *, email: str, role: str, password: str | None = None
) -> tuple[ConsoleUser, str | None]:
    """Add an account; returns it and, when no password is given, a one-time setup token."""
    normalized = normalize_email(email)
    if role not in ROLES:
        raise AccountError(f"Role must be one of: {', '.join(ROLES)}.")
    if session.scalar(select(func.count()).where(ConsoleUser.email == normalized)):
        raise AccountError("An account with that email already exists.")
    user = ConsoleUser(email=normalized, role=role, active=True, failed_attempts=0)
    token = None
    if password is None:
        token = issue_setup_token(user)
    else:
        check_password_rules(password)
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    return user, token


def issue_setup_token(user: ConsoleUser, *, now: dt.datetime | None = None) -> str:
    """Give the account a fresh one-time link token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    user.setup_token_hash = token_digest(token)
    user.setup_token_expires_at = (now or utcnow()) + SETUP_LINK_LIFETIME
    return token


def user_for_setup_token(
    session: Session, token: str, *, now: dt.datetime | None = None
) -> ConsoleUser | None:
    """The active account a setup link belongs to, while the link is unused and unexpired."""
    if not token or len(token) > 128:
        return None
    user = session.scalar(
        select(ConsoleUser).where(ConsoleUser.setup_token_hash == token_digest(token))
    )
    if user is None or not user.active or user.setup_token_expires_at is None:
        return None
    if user.setup_token_expires_at <= (now or utcnow()):
        return None
    return user


def set_password(session: Session, user: ConsoleUser, password: str) -> None:
    """Set a new password, spend the setup link, unlock, and sign out every browser."""
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.setup_token_hash = None
    user.setup_token_expires_at = None
    user.failed_attempts = 0
    user.locked_until = None
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))


def verify_login(
    session: Session, email: str, password: str, *, now: dt.datetime | None = None
) -> LoginOutcome:
    """Check a sign-in, counting failures and locking the account after too many."""
    moment = now or utcnow()
    user = find_user(session, email)
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[: MAX_PASSWORD_LENGTH + 1]  # still wrong, but cheap to hash
    if user is None or user.password_hash is None or not user.active:
        _spend_time(password)
        reason = "unknown" if user is None else "inactive"
        return LoginOutcome(None, reason)
    if user.locked_until is not None and user.locked_until > moment:
        _spend_time(password)
        return LoginOutcome(None, "locked")
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_attempts = (user.failed_attempts or 0) + 1
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            user.locked_until = moment + LOCKOUT
            user.failed_attempts = 0
            return LoginOutcome(None, "locked_now")
        return LoginOutcome(None, "wrong_password")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_attempts = 0
    user.locked_until = None
    user.last_login_at = moment
    return LoginOutcome(user, "ok")


def _spend_time(password: str) -> None:
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        _HASHER.verify(_DUMMY_HASH, password)


def start_session(
    session: Session, user: ConsoleUser, *, now: dt.datetime | None = None
) -> tuple[str, ConsoleSession]:
    """Open a browser session; returns the cookie token (never stored) and the row."""
    moment = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(
        token_hash=token_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=moment,
        last_seen_at=moment,
        expires_at=moment + SESSION_ABSOLUTE,
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_session(
    session: Session, token: str | None, *, now: dt.datetime | None = None
) -> tuple[ConsoleSession, ConsoleUser] | None:
    """The live session and active user behind a cookie token, or None (and drop stale rows)."""
    if not token or len(token) > 128:
        return None
    moment = now or utcnow()
    row = session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == token_digest(token))
    )
    if row is None:
        return None
    user = session.get(ConsoleUser, row.user_id)
    stale = row.expires_at <= moment or row.last_seen_at + SESSION_IDLE <= moment
    if stale or user is None or not user.active:
        session.delete(row)
        return None
    return row, user


def end_session(session: Session, row: ConsoleSession) -> None:
    """Sign one browser out (the cookie's token stops working at once)."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.id == row.id))
