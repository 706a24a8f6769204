"""Batch: upload a list, see progress and an on-page summary, download the results CSV.

Short lists are screened while the page waits; long ones in a background thread of this
process, with progress on the job row, so any web worker can answer the page's polling.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from sqlalchemy import delete, select
from werkzeug.wrappers import Response as BaseResponse

from db.base import utcnow
from db.models.console import ConsoleBatchJob
from webhooks.console import audit, batch_engine
from webhooks.console.screening import today
from webhooks.console.security import accepts_upload, current_user, settings_of_current
from webhooks.db import db_session, session_factory

bp = Blueprint("batch", __name__, url_prefix="/batch")

#: Rows shown on the job page (the CSV has them all).
PREVIEW_ROWS = 50
RECENT_JOBS = 10
SUMMARY_LABELS = (
    ("automatic", "Automatic"),
    ("act_now", "Act now"),
    ("wait", "Wait"),
    ("needs_review", "Needs review"),
    ("already_cleared", "Already cleared"),
    ("no_relief_found", "No relief found"),
    ("outside_maryland", "Outside Maryland"),
)


def _recent_jobs() -> list[ConsoleBatchJob]:
    query = (
        select(ConsoleBatchJob)
        .where(ConsoleBatchJob.user_id == current_user().id)
        .order_by(ConsoleBatchJob.id.desc())
        .limit(RECENT_JOBS)
    )
    return list(db_session().scalars(query))


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    page = render_template(
        "console/batch.html",
        active_nav="batch",
        jobs=_recent_jobs(),
        max_mb=batch_engine.MAX_UPLOAD_BYTES // (1024 * 1024),
        max_cases=batch_engine.MAX_CASES,
        **context,
    )
    return page, status


@bp.get("/")
def index() -> tuple[str, int]:
    """The upload form and this worker's recent jobs."""
    return _page()


def as_of_date(raw: str, default: dt.date) -> dt.date | str:
    """The screening date typed (``default`` when blank), or why it cannot be used."""
    if not raw.strip():
        return default
    try:
        value = dt.date.fromisoformat(raw.strip())
    except ValueError:
        return "The screening date must be a date like 2026-11-25."
    if not dt.date(2000, 1, 1) <= value <= dt.date(2100, 12, 31):
        return "The screening date is out of range."
    return value


@bp.post("/")
@accepts_upload(batch_engine.MAX_UPLOAD_BYTES + 64 * 1024)
def upload() -> BaseResponse | tuple[str, int]:
    """Start a job for an uploaded CSV.

    A refused upload shows the form again with the screening date as it was typed, so the
    next try is not screened as of today by surprise.
    """
    upload_file = request.files.get("file")
    as_of_raw = request.form.get("as_of", "")[:32]
    as_of = as_of_date(as_of_raw, today())
    if isinstance(as_of, str):
        return _page(400, as_of_error=as_of, as_of_value=as_of_raw)
    if upload_file is None or not upload_file.filename:
        return _page(400, error="Choose a CSV file to upload.", as_of_value=as_of_raw)
    data = upload_file.stream.read(batch_engine.MAX_UPLOAD_BYTES + 1)
    try:
        parsed = batch_engine.parse_upload(data, upload_file.filename)
    except batch_engine.BatchError as error:
        return _page(400, error=str(error), as_of_value=as_of_raw)
    session = db_session()
    user = current_user()
    job = ConsoleBatchJob(
        user_id=user.id,
        kind=parsed.kind,
        status="running",
        as_of=as_of.isoformat(),
        total=parsed.total,
        done=0,
    )
    session.add(job)
    session.flush()
    audit.record(
        "batch",
        user_id=user.id,
        hmac_key=settings_of_current().hmac_key,
        target_kind="batch",
        target=str(job.id),
        detail=f"{parsed.kind} {parsed.total} rows",
    )
    session.commit()
    if parsed.total <= batch_engine.SYNC_LIMIT:
        outcome = batch_engine.screen_batch(session, parsed, as_of)
        session.rollback()
        batch_engine.finish_job(session, job, outcome)
        session.commit()
    else:
        batch_engine.start_background(session_factory(), job.id, parsed, as_of)
    return redirect(url_for("console.batch.job", job_id=job.id))


def _job(job_id: int) -> ConsoleBatchJob:
    """The job if it belongs to this worker (admins see every job); otherwise 404."""
    job = db_session().get(ConsoleBatchJob, job_id)
    user = current_user()
    if job is None or (job.user_id != user.id and not user.is_admin):
        abort(404, "No such batch job.")
    if job.status == "running" and utcnow() - job.created_at > batch_engine.STALE_AFTER:
        job.status = "failed"
        job.error = "The job was interrupted. Upload the list again."
        db_session().commit()
    return job


def _preview(job: ConsoleBatchJob) -> tuple[list[str], list[list[str]]]:
    import csv
    import io

    if not job.result_csv:
        return [], []
    reader = csv.reader(io.StringIO(job.result_csv))
    header = next(reader)
    rows = []
    for row in reader:
        rows.append(row)
        if len(rows) >= PREVIEW_ROWS:
            break
    return header, rows


@bp.get("/<int:job_id>")
def job(job_id: int) -> tuple[str, int]:
    """Progress while running; the summary, a preview and the download when done."""
    found = _job(job_id)
    summary = json.loads(found.summary_json) if found.summary_json else None
    header, rows = _preview(found)
    return _page(
        job=found,
        summary=summary,
        labels=SUMMARY_LABELS,
        preview_header=header,
        preview_rows=rows,
    )


@bp.get("/<int:job_id>/status")
def status(job_id: int) -> Response:
    """The job's progress as JSON, for the page's progress bar."""
    found = _job(job_id)
    return jsonify({"status": found.status, "done": found.done, "total": found.total})


@bp.get("/<int:job_id>/results.csv")
def results(job_id: int) -> Response:
    """The results file, one row per case of the upload."""
    found = _job(job_id)
    if found.status != "done" or found.result_csv is None:
        abort(409, "The results are not ready yet.")
    audit.record(
        "batch_download",
        user_id=current_user().id,
        hmac_key=settings_of_current().hmac_key,
        target_kind="batch",
        target=str(found.id),
    )
    db_session().commit()
    # A byte order mark: Excel reads the file as UTF-8 only with one (else "JosÃ©").
    response = Response("\ufeff" + found.result_csv, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="recordcheck-batch-{found.id}-results.csv"'
    )
    return response


@bp.post("/<int:job_id>/delete")
def remove(job_id: int) -> BaseResponse:
    """Delete a job and its results."""
    found = _job(job_id)
    session = db_session()
    session.execute(delete(ConsoleBatchJob).where(ConsoleBatchJob.id == found.id))
    audit.record(
        "batch_delete",
        user_id=current_user().id,
        hmac_key=settings_of_current().hmac_key,
        target_kind="batch",
        target=str(found.id),
    )
    session.commit()
    return redirect(url_for("console.batch.index"))
