"""Admin pages: manage console users, and import record files and program lists."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.utils import secure_filename

from db.models.console import ROLES, ConsoleSession, ConsoleUser
from db.models.records import ImportRun
from db.records.formats import PROGRAM_NAME
from db.records.importer import SNAPSHOT_MAX_REMOVED_TEXT, import_paths
from webhooks.console import accounts, audit, drafts
from webhooks.console.security import (
    accepts_upload,
    admin_required,
    current_user,
    settings_of_current,
)
from webhooks.db import db_session, session_factory

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _audit(action: str, target_user: ConsoleUser | None = None, detail: str | None = None) -> None:
    audit.record(
        action,
        user_id=current_user().id,
        hmac_key=settings_of_current().hmac_key,
        target_kind="user" if target_user else None,
        target=str(target_user.id) if target_user else None,
        detail=detail,
    )


def setup_link(token: str) -> str:
    """The one-time link a new user opens to choose a password."""
    base = settings_of_current().public_base_url
    return f"{base}{url_for('console.auth.setup', token=token)}"


def _users_page(status: int = 200, **context: object) -> tuple[str, int]:
    rows = db_session().scalars(select(ConsoleUser).order_by(ConsoleUser.email)).all()
    page = render_template(
        "console/users.html", users=rows, roles=ROLES, active_nav="users", **context
    )
    return page, status


@bp.get("/users")
@admin_required
def users() -> tuple[str, int]:
    """Every account, with its role, state and actions."""
    return _users_page()


@bp.post("/users")
@admin_required
def create_user() -> tuple[str, int]:
    """Create an account and show its one-time setup link, once, on this page only."""
    session = db_session()
    email = request.form.get("email", "")
    role = request.form.get("role", "")
    try:
        user, token = accounts.create_user(session, email=email, role=role)
    except accounts.AccountError as exc:
        session.rollback()
        return _users_page(
            400, error=str(exc), form_email=email[: accounts.MAX_EMAIL_LENGTH], form_role=role
        )
    _audit("user_create", user, role)
    session.commit()
    link = setup_link(token) if token else None
    return _users_page(201, message=f"Account created for {user.email}.", link=link)


@drafts.keeps(
    "console.admin.create_user",
    ("email", "role"),
    "new user",
    lambda _a: url_for("console.admin.users"),
)
def _kept_new_user(
    _view_args: Mapping[str, Any], form: MultiDict[str, str], notice: str, status: int
) -> tuple[str, int]:
    """The users page again with the new account's email and role (see ``drafts``)."""
    if not current_user().is_admin:
        abort(403, "Only admins can use this page.")
    return _users_page(
        status,
        kept_notice=notice,
        form_email=form.get("email", "")[: accounts.MAX_EMAIL_LENGTH],
        form_role=form.get("role", ""),
    )


def _target(user_id: int) -> ConsoleUser:
    user = db_session().get(ConsoleUser, user_id)
    if user is None:
        abort(404, "No such user.")
    return user


@bp.post("/users/<int:user_id>")
@admin_required
def change_user(user_id: int) -> tuple[str, int]:
    """Unlock, reset the link, change the role, or deactivate/reactivate an account."""
    session = db_session()
    user = _target(user_id)
    action = request.form.get("action", "")
    me = current_user()
    link = None
    if action == "unlock":
        user.failed_attempts = 0
        user.locked_until = None
        message = f"{user.email} is unlocked."
    elif action == "reset":
        link = setup_link(accounts.issue_setup_token(user))
        message = f"New one-time link for {user.email} (the old password still works until used)."
    elif action == "role":
        role = request.form.get("role", "")
        if role not in ROLES:
            abort(400, "Unknown role.")
        if user.id == me.id and role != "admin":
            abort(400, "You cannot remove your own admin role.")
        user.role = role
        message = f"{user.email} is now {role}."
    elif action in ("deactivate", "activate"):
        if user.id == me.id:
            abort(400, "You cannot deactivate your own account.")
        user.active = action == "activate"
        if not user.active:
            session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
        message = f"{user.email} is {'active' if user.active else 'deactivated'}."
    else:
        abort(400, "Unknown action.")
    _audit(f"user_{action}", user)
    session.commit()
    return _users_page(message=message, link=link)


MAX_IMPORT_BYTES = 100 * 1024 * 1024
MAX_IMPORT_FILES = 10
IMPORT_FORMATS = ("auto", "recordcheck", "caseharvester")
#: The form's choice for a Case Harvester export: add and update only (as before), check a
#: monthly snapshot (a dry run), or apply it (see ``recordcheck records import --snapshot``).
SNAPSHOT_MODES = ("", "dry-run", "apply")
RECENT_RUNS = 20


def _imports_page(status: int = 200, **context: object) -> tuple[str, int]:
    runs = db_session().scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(RECENT_RUNS))
    page = render_template(
        "console/imports.html",
        active_nav="imports",
        runs=list(runs),
        formats=IMPORT_FORMATS,
        max_mb=MAX_IMPORT_BYTES // (1024 * 1024),
        snapshot_modes=SNAPSHOT_MODES,
        snapshot_max_share=SNAPSHOT_MAX_REMOVED_TEXT,
        **context,
    )
    return page, status


@bp.get("/imports")
@admin_required
def imports() -> tuple[str, int]:
    """The import form and the recent import runs."""
    return _imports_page()


def _save_uploads(files: list[FileStorage], folder: Path) -> list[Path]:
    """Write uploads under their (sanitised) names; raise AccountError-like ValueError if bad."""
    paths = []
    for number, upload in enumerate(files):
        name = secure_filename(upload.filename or "") or f"upload-{number}.csv"
        if Path(name).suffix.lower() not in {".csv", ".txt", ".tsv"}:
            raise ValueError(f"{name}: upload CSV files only.")
        head = upload.stream.read(8)
        if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")):
            raise ValueError(f"{name}: that is not a CSV file (save it as CSV, UTF-8).")
        # One folder per file keeps the name as uploaded (Case Harvester tables are known by
        # their names) even when two uploads share one.
        (folder / f"{number:02d}").mkdir()
        target = folder / f"{number:02d}" / name
        with target.open("wb") as out:
            out.write(head)
            shutil.copyfileobj(upload.stream, out, 1024 * 1024)
        if target.stat().st_size == 0:
            raise ValueError(f"{name}: the file is empty.")
        paths.append(target)
    return paths


@bp.post("/imports")
@accepts_upload(MAX_IMPORT_BYTES)
@admin_required
def run_import() -> tuple[str, int]:
    """Import record files or a program list with the records importer; show its report."""
    files = [f for f in request.files.getlist("files") if f and f.filename]
    fmt = request.form.get("format", "auto")
    program = request.form.get("program", "").strip() or None
    if not files:
        return _imports_page(400, error="Choose one or more CSV files.")
    if len(files) > MAX_IMPORT_FILES:
        return _imports_page(400, error=f"Import at most {MAX_IMPORT_FILES} files at a time.")
    if fmt not in IMPORT_FORMATS:
        return _imports_page(400, error="Unknown format.")
    if program is not None and not PROGRAM_NAME.fullmatch(program):
        return _imports_page(
            400, error="A program name uses letters, digits, dots, dashes and underscores."
        )
    snapshot = request.form.get("snapshot", "")
    force = request.form.get("force") == "1"
    problem = _snapshot_problem(snapshot, fmt, program, force=force)
    if problem is not None:
        return _imports_page(400, error=problem)
    with tempfile.TemporaryDirectory(prefix="recordcheck-import-") as folder:
        try:
            paths = _save_uploads(files, Path(folder))
        except ValueError as error:
            return _imports_page(400, error=str(error))
        report = import_paths(
            session_factory(),
            paths,
            fmt=fmt,
            program=program,
            snapshot=bool(snapshot),
            dry_run=snapshot == "dry-run",
            force=force,
        )
    errors = [(Path(e.file).name, e.line, e.reason) for e in report.errors]
    _audit("import", detail=_import_detail(len(paths), report))
    db_session().commit()
    return _imports_page(report=report, report_errors=errors)


def _snapshot_problem(snapshot: str, fmt: str, program: str | None, *, force: bool) -> str | None:
    """Why the snapshot choice cannot go with the rest of the form, or None."""
    if snapshot not in SNAPSHOT_MODES:
        return "Unknown snapshot choice."
    if not snapshot:
        share = SNAPSHOT_MAX_REMOVED_TEXT
        return f"Removing more than {share} goes with a snapshot." if force else None
    if fmt != "caseharvester":
        return "A monthly snapshot reads Case Harvester tables: choose the caseharvester format."
    if program is not None:
        return "A monthly snapshot imports records, not a program list."
    return None


def _import_detail(files: int, report: Any) -> str:
    """The audit line: counts only (a snapshot's removals per case type, never case numbers)."""
    detail = f"{files} files, {report.rows} rows, {report.error_count} errors"
    outcome = report.snapshot
    if outcome is None:
        return detail
    state = "applied" if outcome.applied else ("dry run" if outcome.dry_run else "refused")
    removed = ", ".join(f"{r.case_type} -{r.cases}/-{r.charges}" for r in outcome.removals)
    return f"{detail}; snapshot {state}: {removed}"[:200]
