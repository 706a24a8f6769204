"""Record file formats (DESIGN.md 5.4): recognising a file from its header, and parsing its rows.

Each parser turns one CSV row into plain records (cases, charges, defendants, program entries)
or raises :class:`RowProblem` with a reason that names columns, never values, so reasons can be
logged and stored without personal data.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from db.records.case_numbers import court_of, normalize_case_number

RECORDCHECK_COLUMNS = (
    "case_number",
    "court",
    "county",
    "case_status",
    "filing_date",
    "defendant_name",
    "date_of_birth",
    "charge_number",
    "description",
    "statute",
    "offense_date",
    "disposition",
    "disposition_date",
    "sentence_completed_on",
    "probation_violation",
    "expunged",
)
PROGRAM_COLUMNS = ("program", "case_number", "status", "status_date", "note")
#: Columns `recordcheck screen` reads beside the record's (person facts): an import skips them.
SCREENING_ONLY_COLUMNS = ("pending_case", "later_convictions")
CASE_HARVESTER_TYPES = ("dscr", "dsk8", "k", "odycrim")
COURTS = ("district", "circuit", "juvenile")
PROGRAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
REDACTED = {"", "redacted", "[redacted]", "(redacted)", "null", "none", "n/a"}

#: Distinct date texts a parser remembers (1900-2100, the years we accept, has 73,415 days).
_DAY_MEMO = 100_000

# Column widths of db/models/records.py: longer values are reported, not truncated.
_LIMITS = {
    "county": 64,
    "statute": 64,
    "disposition": 200,
    "description": 2000,
    "name": 200,
    "status": 100,
    "note": 2000,
}


#: ``tuple.__new__(Rec, values)`` builds a record without the Python-level ``__new__`` a
#: NamedTuple has: the import builds one per charge.
_new = tuple.__new__


class RowProblem(ValueError):
    """A row that cannot be imported; the message is the reason shown to the operator."""


class CaseRec(NamedTuple):
    """Case-level facts of one row."""

    case_number: str
    court: str
    county: str | None
    case_status: str | None
    case_type: str | None
    filing_date: dt.date | None
    source: str


class ChargeRec(NamedTuple):
    """One charge of one row."""

    case_number: str
    charge_number: int
    description: str
    statute: str | None
    offense_date: dt.date | None
    disposition: str | None
    disposition_date: dt.date | None
    sentence_completed_on: dt.date | None
    probation_violation: bool | None
    expunged: bool


class DefendantRec(NamedTuple):
    """A defendant of one row (name and date of birth may be absent)."""

    case_number: str
    source_key: str
    name: str | None
    date_of_birth: dt.date | None


class ProgramRec(NamedTuple):
    """One program-list entry."""

    program: str
    case_number: str
    status: str
    status_date: dt.date | None
    note: str | None


Record = CaseRec | ChargeRec | DefendantRec | ProgramRec
RowParser = Callable[[Sequence[str]], tuple[Record, ...]]


@dataclass(frozen=True)
class FileKind:
    """What a file is: its format, its table (for Case Harvester) and how to parse its rows."""

    fmt: str  # "recordcheck", "program" or "caseharvester"
    table: str  # "records", "program", or e.g. "dscr", "dscr_charges", "dsk8_defendants"
    parser: RowParser


class UnknownFormat(ValueError):
    """The header does not match any format we read; the message says what was expected."""


class HeaderProblem(UnknownFormat):
    """The header is of a format we read but cannot be read safely (a column named twice, an
    unknown column in a recordcheck file or program list); the message names the columns."""


_DESCRIPTION_LIMIT = _LIMITS["description"]
_STATUTE_LIMIT = _LIMITS["statute"]
_DISPOSITION_LIMIT = _LIMITS["disposition"]

# --- value parsing ---------------------------------------------------------------------------


def _text(value: str, column: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    limit = _LIMITS.get(column)
    if limit is not None and len(value) > limit:
        raise RowProblem(f"{column} is longer than {limit} characters")
    return value


def parse_date(value: str, column: str) -> dt.date | None:
    """ISO dates (Case Harvester, our CSV), also MM/DD/YYYY (Case Search's own strings)."""
    if not value:
        return None
    if len(value) == 10 and value[4] == "-":
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            raise RowProblem(f"{column} is not a date (YYYY-MM-DD)") from None
        if not 1900 <= parsed.year <= 2100:
            raise RowProblem(f"{column} is out of range")
        return parsed
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) >= 10 and value[4] == "-":
            parsed = dt.date.fromisoformat(value[:10])
            if len(value) > 10 and value[10] not in " T":
                raise ValueError(value)
        elif "/" in value:
            month, day, year = value.split("/")
            if len(year) != 4:
                raise ValueError(value)
            parsed = dt.date(int(year), int(month), int(day))
        else:
            raise ValueError(value)
    except ValueError:
        raise RowProblem(f"{column} is not a date (YYYY-MM-DD)") from None
    if not 1900 <= parsed.year <= 2100:
        raise RowProblem(f"{column} is out of range")
    return parsed


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


_BOOLS: dict[str, bool | None] = {"": None, **dict.fromkeys(_TRUE, True)}
_BOOLS.update(dict.fromkeys(_FALSE, False))
_NOT_BOOL = object()


def parse_bool(value: str, column: str) -> bool | None:
    """true/false, t/f, yes/no, 1/0; empty is unknown."""
    value = value.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RowProblem(f"{column} must be true or false")


def _case_number(value: str) -> str:
    if not value.strip():
        raise RowProblem("case_number is missing")
    normalized = normalize_case_number(value)
    if normalized is None:
        raise RowProblem("case_number is not a case number")
    return normalized


def _charge_number(value: str) -> int:
    value = value.strip()
    if not value:
        raise RowProblem("charge_number is missing")
    if not value.isdecimal() or len(value) > 6:
        raise RowProblem("charge_number must be a whole number")
    return int(value)


def _description(value: str | None) -> str:
    if value is None:
        raise RowProblem("description is missing")
    return value


def name_key(name: str | None) -> str | None:
    """A name folded for matching: no accents, no punctuation, lower case, single spaces."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    tokens = re.sub(r"[^a-z0-9]+", " ", folded).split()
    return " ".join(tokens) or None


def _defendant_name(value: str) -> str | None:
    value = value.strip()
    if value.lower() in REDACTED:
        return None
    return _text(value, "name")


def _date_of_birth(value: str, column: str) -> dt.date | None:
    if value.strip().lower() in REDACTED:
        return None
    born = parse_date(value, column)
    if born is not None and born > dt.datetime.now(dt.UTC).date():
        raise RowProblem(f"{column} is in the future")
    return born


# --- header recognition ----------------------------------------------------------------------


def _index(header: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(name.strip().lstrip("\ufeff").lower(), position)
    return index


def _refuse_unknown(index: dict[str, int], known: Sequence[str], what: str) -> None:
    """A column outside the format (DESIGN 5.4) is refused: a misspelt "dispositon" would
    otherwise import every charge without its disposition, silently."""
    unknown = [name for name in index if name and name not in known]
    if unknown:
        raise HeaderProblem(
            f"{what} has unknown columns: {', '.join(unknown)} "
            f"(the columns are {', '.join(known)})"
        )


def _repeated(header: Sequence[str]) -> list[str]:
    """Column names the header gives more than once (which of the two to read is a guess)."""
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    return sorted({name for name in names if name and names.count(name) > 1})


def _getter(index: dict[str, int], *candidates: str) -> Callable[[Sequence[str]], str]:
    """A function reading the first of ``candidates`` that is non-empty in a row."""
    positions = [index[name] for name in candidates if name in index]
    if not positions:
        return lambda row: ""
    if len(positions) == 1:
        only = positions[0]
        return lambda row: row[only]

    def first(row: Sequence[str]) -> str:
        for position in positions:
            if row[position].strip():
                return row[position]
        return ""

    return first


def _missing(index: dict[str, int], required: Sequence[str]) -> list[str]:
    return [name for name in required if name not in index]


def _recordcheck_parser(index: dict[str, int]) -> RowParser:
    # Direct positions (this parser runs once per charge of a million-row import); an absent
    # optional column reads as the empty string.
    width = max(index.values()) + 1
    pos = {name: index.get(name, width) for name in RECORDCHECK_COLUMNS}
    # A row gets an empty field at ``width`` (read for an absent column, or the last one of a
    # short row); a full row of a file with every column is used as it is.
    complete = width not in pos.values()
    (
        i_number,
        i_court,
        i_county,
        i_status,
        i_filed,
        i_name,
        i_born,
        i_charge,
        i_description,
        i_statute,
        i_offense,
        i_disposition,
        i_decided,
        i_completed,
        i_violation,
        i_expunged,
    ) = (pos[name] for name in RECORDCHECK_COLUMNS)

    # Rows of one case repeat its case fields (and its person): parse them once per case.
    # Dates recur across a file (a few thousand days): each text is parsed once.
    days: dict[str, dt.date] = {}

    def day(value: str, column: str) -> dt.date | None:
        known = days.get(value)
        if known is None:
            known = parse_date(value, column)
            if known is not None and len(days) < _DAY_MEMO:
                days[value] = known
        return known

    case_key: tuple[str, ...] = ()
    case = CaseRec("", "", None, None, None, None, "recordcheck")
    person_key: tuple[str, ...] = ()
    person: DefendantRec | None = None

    def parse_case(row: Sequence[str]) -> CaseRec:
        case_number = _case_number(row[i_number])
        court_raw = row[i_court].strip().lower()
        court = court_raw if court_raw in COURTS else None
        if court is None and court_raw:
            court = next((c for c in COURTS if c in court_raw), None)
            if court is None:
                raise RowProblem("court must be district, circuit or juvenile")
        if court is None:
            court = court_of(case_number)
            if court is None:
                raise RowProblem("court is missing")
        status_raw = row[i_status].strip().lower()
        if status_raw and status_raw not in {"open", "closed"}:
            raise RowProblem("case_status must be open or closed")
        return CaseRec(
            case_number,
            court,
            _text(row[i_county], "county"),
            status_raw or None,
            None,
            day(row[i_filed], "filing_date"),
            "recordcheck",
        )

    def parse(fields: Sequence[str]) -> tuple[Record, ...]:
        nonlocal case_key, case, person_key, person
        row = fields if complete and len(fields) >= width else [*fields, ""]
        key = (row[i_number], row[i_court], row[i_county], row[i_status], row[i_filed])
        if key != case_key:
            case = parse_case(row)
            case_key = key
        case_number = case.case_number
        # The charge's fields, in column order (the first bad one is the reason), written out
        # for the common case; anything unusual goes through the helpers that explain it.
        raw = row[i_charge]
        number = int(raw) if raw.isdecimal() and len(raw) <= 6 else _charge_number(raw)
        description = row[i_description].strip()
        if not description or len(description) > _DESCRIPTION_LIMIT:
            description = _description(_text(description, "description"))
        statute = row[i_statute].strip()
        if len(statute) > _STATUTE_LIMIT:
            _text(statute, "statute")
        raw = row[i_offense]
        offense = days.get(raw) or day(raw, "offense_date")
        disposition = row[i_disposition].strip()
        if len(disposition) > _DISPOSITION_LIMIT:
            _text(disposition, "disposition")
        raw = row[i_decided]
        decided = days.get(raw) or day(raw, "disposition_date")
        raw = row[i_completed]
        done = days.get(raw) or day(raw, "sentence_completed_on")
        violation = _BOOLS.get(row[i_violation].strip().lower(), _NOT_BOOL)
        if violation is _NOT_BOOL:
            raise RowProblem("probation_violation must be true or false")
        expunged = _BOOLS.get(row[i_expunged].strip().lower(), _NOT_BOOL)
        if expunged is _NOT_BOOL:
            raise RowProblem("expunged must be true or false")
        charge = _new(
            ChargeRec,
            (
                case_number,
                number,
                description,
                statute or None,
                offense,
                disposition or None,
                decided,
                done,
                violation,
                expunged is True,
            ),
        )
        name_raw, born_raw = row[i_name], row[i_born]
        if not name_raw and not born_raw:
            return (case, charge)
        people_key = (case_number, name_raw, born_raw)
        if people_key != person_key:
            name = _defendant_name(name_raw)
            born = _date_of_birth(born_raw, "date_of_birth")
            person = (
                None
                if name is None and born is None
                else DefendantRec(case_number, "1", name, born)
            )
            person_key = people_key
        if person is None:
            return (case, charge)
        return (case, charge, person)

    return parse


def _program_parser(index: dict[str, int], program: str | None) -> RowParser:
    get = {name: _getter(index, name) for name in PROGRAM_COLUMNS}

    def parse(row: Sequence[str]) -> tuple[Record, ...]:
        named = get["program"](row).strip()
        if program is not None and named and named != program:
            raise RowProblem("program column names a different program than --program")
        name = program or named
        if not name:
            raise RowProblem("program is missing")
        if not PROGRAM_NAME.fullmatch(name):
            raise RowProblem("program name may use letters, digits, '.', '_' and '-' only")
        status = _text(get["status"](row), "status")
        if status is None:
            raise RowProblem("status is missing")
        return (
            ProgramRec(
                name,
                _case_number(get["case_number"](row)),
                status,
                parse_date(get["status_date"](row), "status_date"),
                _text(get["note"](row), "note"),
            ),
        )

    return parse


_STATUS_CLOSED = {"closed", "complete", "completed", "case closed", "closed/inactive"}
_STATUS_OPEN = {"open", "active", "reopened", "re-opened", "pending", "case active"}
_COURT_FOR = re.compile(r"court (?:for|of) (.+?)(?:\s+-.*)?$", re.IGNORECASE)


def _case_status(raw: str) -> str | None:
    value = raw.strip().lower()
    if value in _STATUS_CLOSED:
        return "closed"
    if value in _STATUS_OPEN:
        return "open"
    return None


def _harvester_case_parser(index: dict[str, int], table: str) -> RowParser:
    case_number = _getter(index, "case_number")
    court_system = _getter(index, "court_system", "court")
    location = _getter(index, "location")
    status = _getter(index, "case_status", "status")
    filing = _getter(index, "filing_date", "issued_date", "filing_date_str", "issued_date_str")

    def parse(row: Sequence[str]) -> tuple[Record, ...]:
        number = _case_number(case_number(row))
        system = court_system(row).strip()
        lowered = system.lower()
        if "district" in lowered:
            court: str | None = "district"
        elif "circuit" in lowered:
            court = "circuit"
        else:
            court = {"dscr": "district", "dsk8": "circuit", "k": "circuit"}.get(table)
            court = court or court_of(number)
        if court is None:
            raise RowProblem("court_system names no court")
        match = _COURT_FOR.search(system)
        county = match.group(1).strip() if match else None
        if county is None:
            where = location(row).strip()
            county = re.sub(r"\s*(circuit|district)\s+court.*$", "", where, flags=re.I) or None
        if county is None and table == "dsk8":
            county = "Baltimore City"
        return (
            CaseRec(
                number,
                court,
                _text(county, "county") if county else None,
                _case_status(status(row)),
                table,
                parse_date(filing(row), "filing_date"),
                "caseharvester",
            ),
        )

    return parse


_CHARGE_COLUMNS = {
    "description": ("charge_description", "description"),
    "statute": ("statute", "statute_code"),
    "offense_date": ("incident_date_from", "offense_date_from", "offense_date"),
    "offense_date_str": ("incident_date_from_str", "offense_date_from_str"),
    "disposition": ("disposition", "verdict", "converted_disposition"),
    "disposition_date": ("disposition_date", "verdict_date"),
    "disposition_date_str": ("disposition_date_str", "verdict_date_str"),
}


def _harvester_charge_parser(index: dict[str, int]) -> RowParser:
    case_number = _getter(index, "case_number")
    charge_number = _getter(index, "charge_number")
    expunged = _getter(index, "expunged")
    get = {field: _getter(index, *columns) for field, columns in _CHARGE_COLUMNS.items()}

    def parse(row: Sequence[str]) -> tuple[Record, ...]:
        number = _case_number(case_number(row))
        offense = get["offense_date"](row) or get["offense_date_str"](row)
        decided = get["disposition_date"](row) or get["disposition_date_str"](row)
        return (
            ChargeRec(
                number,
                _charge_number(charge_number(row)),
                _description(_text(get["description"](row), "description")),
                _text(get["statute"](row), "statute"),
                parse_date(offense, "offense_date"),
                _text(get["disposition"](row), "disposition"),
                parse_date(decided, "disposition_date"),
                None,
                None,
                bool(parse_bool(expunged(row), "expunged")),
            ),
        )

    return parse


def _harvester_defendant_parser(index: dict[str, int]) -> RowParser:
    case_number = _getter(index, "case_number")
    key = _getter(index, "id")
    name = _getter(index, "name")
    born = _getter(index, "dob", "dob_str")

    def parse(row: Sequence[str]) -> tuple[Record, ...]:
        number = _case_number(case_number(row))
        source_key = key(row).strip() or "1"
        if len(source_key) > 64:
            raise RowProblem("id is longer than 64 characters")
        defendant = DefendantRec(
            number, source_key, _defendant_name(name(row)), _date_of_birth(born(row), "DOB")
        )
        return (defendant,)

    return parse


_FILE_HINT = re.compile(r"^(dscr|dsk8|k|odycrim)(?:_(charges|defendants))?(?:$|[^a-z0-9])")


def _harvester_kind(index: dict[str, int], path: Path) -> FileKind | None:
    hint = _FILE_HINT.match(path.name.lower())
    hinted_type = hint.group(1) if hint else None
    columns = set(index)
    if {"case_number", "charge_number", "expunged"} <= columns:
        if hinted_type:
            case_type = hinted_type
        elif "incident_date_from" in columns or "statute_description" in columns:
            case_type = "dscr"
        elif "verdict" in columns or "statute_code" not in columns:
            case_type = "dsk8"
        elif "converted_disposition" in columns:
            case_type = "odycrim"
        else:
            case_type = "k"
        return FileKind("caseharvester", f"{case_type}_charges", _harvester_charge_parser(index))
    if {"case_number", "name"} <= columns and ({"dob", "dob_str"} & columns):
        table = f"{hinted_type}_defendants" if hinted_type else "defendants"
        return FileKind("caseharvester", table, _harvester_defendant_parser(index))
    if {"case_number", "court_system"} <= columns:
        if hinted_type:
            case_type = hinted_type
        elif {"document_type", "issued_date", "case_disposition"} & columns:
            case_type = "dscr"
        elif {"district_case_number", "complaint_number"} & columns:
            case_type = "dsk8"
        elif {"case_title", "tracking_numbers"} & columns:
            case_type = "odycrim"
        else:
            case_type = "k"
        return FileKind("caseharvester", case_type, _harvester_case_parser(index, case_type))
    return None


def recognise(
    header: Sequence[str], path: Path, *, fmt: str = "auto", program: str | None = None
) -> FileKind:
    """The kind of a file from its header (and its name, for Case Harvester tables)."""
    if fmt not in {"auto", "recordcheck", "caseharvester"}:
        raise UnknownFormat("format must be auto, recordcheck or caseharvester")
    repeated = _repeated(header)
    if repeated:
        raise HeaderProblem(f"the header names a column twice: {', '.join(repeated)}")
    index = _index(header)
    columns = set(index)
    is_program = program is not None or (
        {"program", "case_number", "status"} <= columns and "charge_number" not in columns
    )
    if fmt in {"auto", "recordcheck"} and is_program:
        missing = _missing(index, ("case_number", "status"))
        if missing:
            raise UnknownFormat(f"program list is missing columns: {', '.join(missing)}")
        _refuse_unknown(index, PROGRAM_COLUMNS, "program list")
        return FileKind("program", "program", _program_parser(index, program))
    if fmt == "recordcheck" or (fmt == "auto" and {"case_number", "court"} <= columns):
        required = ("case_number", "court", "charge_number", "description")
        missing = _missing(index, required)
        if missing:
            raise UnknownFormat(f"recordcheck file is missing columns: {', '.join(missing)}")
        _refuse_unknown(index, (*RECORDCHECK_COLUMNS, *SCREENING_ONLY_COLUMNS), "recordcheck file")
        return FileKind("recordcheck", "records", _recordcheck_parser(index))
    kind = _harvester_kind(index, path)
    if kind is not None:
        return kind
    if fmt == "caseharvester":
        raise UnknownFormat(
            "not a Case Harvester case, _charges or _defendants table "
            "(needs case_number with court_system, charge_number and expunged, or name and DOB)"
        )
    raise UnknownFormat(
        "cannot tell the format from the header; expected the recordcheck columns "
        "(case_number, court, charge_number, description, ...), a program list "
        "(program, case_number, status, ...) or a Case Harvester table"
    )
