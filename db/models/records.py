"""Court records, relief programs, import runs and the lookup audit (DESIGN.md section 3).

The hot lookup is one probe on ``record_cases.case_number`` (normalised, unique); charges and
defendants hang off the case id, program entries off the same normalised case number.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class RecordCase(Base):
    """One court case; ``case_number`` is always stored normalised."""

    __tablename__ = "record_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    court: Mapped[str] = mapped_column(String(16))
    county: Mapped[str | None] = mapped_column(String(64))
    case_status: Mapped[str | None] = mapped_column(String(16))
    case_type: Mapped[str | None] = mapped_column(String(16))
    filing_date: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(32))
    import_run_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordCharge(Base):
    """One charge of a case, as the court wrote it (expunged charges are never stored)."""

    __tablename__ = "record_charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("record_cases.id", ondelete="CASCADE"))
    charge_number: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    statute: Mapped[str | None] = mapped_column(String(64))
    offense_date: Mapped[dt.date | None] = mapped_column(Date)
    disposition: Mapped[str | None] = mapped_column(String(200))
    disposition_date: Mapped[dt.date | None] = mapped_column(Date)
    sentence_completed_on: Mapped[dt.date | None] = mapped_column(Date)
    probation_violation: Mapped[bool | None] = mapped_column(Boolean)
    content_hash: Mapped[str] = mapped_column(String(32))
    import_run_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("case_id", "charge_number"),)


class RecordDefendant(Base):
    """A defendant of a case; name and date of birth are absent in public exports."""

    __tablename__ = "record_defendants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("record_cases.id", ondelete="CASCADE"))
    source_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    name_key: Mapped[str | None] = mapped_column(String(200))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date, index=True)
    content_hash: Mapped[str] = mapped_column(String(32))
    import_run_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("case_id", "source_key"),)


class ReliefProgram(Base):
    """A named list of cases with a per-case status (e.g. ``bcsao-2019-vacatur``)."""

    __tablename__ = "relief_programs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProgramEntry(Base):
    """One case on a program list; keyed by normalised case number, which may be unknown to us."""

    __tablename__ = "program_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32))
    program_id: Mapped[int] = mapped_column(ForeignKey("relief_programs.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(100))
    status_date: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))
    import_run_id: Mapped[int | None] = mapped_column(Integer)

    # Leading case_number: the same index serves the lookup and the upsert key.
    __table_args__ = (UniqueConstraint("case_number", "program_id"),)


class ImportRun(Base):
    """One imported file: what it changed and which rows it rejected (line and reason only)."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(String(500))
    fmt: Mapped[str] = mapped_column(String(32))
    program: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    cases_added: Mapped[int] = mapped_column(Integer, default=0)
    cases_updated: Mapped[int] = mapped_column(Integer, default=0)
    charges_added: Mapped[int] = mapped_column(Integer, default=0)
    charges_updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str | None] = mapped_column(Text)


class LookupAudit(Base):
    """Every lookup and search: who (hashed), what (keyed hash), outcome, when; never values."""

    __tablename__ = "lookup_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    case_number_hash: Mapped[str | None] = mapped_column(String(64))
    query_hash: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    result_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_lookup_audit_requester_created", "requester", "created_at"),)
