"""Target columns, the strict format rules their values must follow, and the SQL that checks a staged text value
set-wise in PostgreSQL.

Formats are strict where PostgreSQL is lenient and a lenient reading could be silently wrong: dates are ISO
``YYYY-MM-DD`` only, numbers are never ``NaN`` or ``Infinity``; a required value is never empty. Surrounding
spaces in a typed field are formatting, not value; a line break or tab inside one is rejected before the
database (``records``). Beyond these, PostgreSQL's own input function for the type judges a value.

The rules are stated twice, side by side here, for the two ways a file loads (see ``load``):

- ``shape``: a regular expression for a field's text that certainly follows the format rules, checked
  in Python as the file streams into a typed ``COPY`` (the fast path for a clean file: no SQL per value);
- ``problem``: SQL over the staged text ``v`` (``NULLIF(field, '')``: an empty field is NULL) giving NULL when
  the value loads, else the reason it is quarantined, e.g. ``order_date: not a date YYYY-MM-DD ('2022/01/05')``
  (the checked path, for a file the typed path cannot take).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

INTEGER_TYPES = ("smallint", "integer", "int", "bigint")
NUMBER_TYPES = ("numeric", "decimal", "double", "real", "float")


@dataclasses.dataclass(frozen=True)
class Column:
    """A target column; ``source`` names its CSV header field (default: ``name``)."""

    name: str
    pg_type: str
    nullable: bool = True
    source: str | None = None

    @property
    def header(self) -> str:
        return self.source or self.name

    @property
    def family(self) -> str:
        pg_type = self.pg_type.lower()
        if pg_type.startswith(INTEGER_TYPES):
            return "integer"
        if pg_type.startswith(NUMBER_TYPES):
            return "number"
        if pg_type == "date":
            return "date"
        if pg_type.startswith(("text", "varchar", "character varying", "char")):
            return "text"
        return "other"  # timestamp, boolean, ...: PostgreSQL's own input rules

    @property
    def typed(self) -> bool:
        return self.family != "text"


@dataclasses.dataclass(frozen=True)
class SurrogateKey:
    """A key column for sources without one: md5 of the named fields' typed values plus the occurrence number
    of that combination in the file, so identical rows stay distinct and the same file always gets the same
    keys."""

    name: str
    fields: tuple[str, ...]


def as_columns(columns: Sequence[Column | tuple]) -> list[Column]:
    return [column if isinstance(column, Column) else Column(*column) for column in columns]


def quote_ident(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _wrong_format(column: Column, value: str) -> tuple[str, str] | None:
    """(SQL condition, what the value should be) for families whose format is checked before the cast: a date
    must look like YYYY-MM-DD (``01/02/2022`` would depend on DateStyle), a number must not be NaN or Infinity
    (the only numeric inputs with an n)."""
    if column.family == "date":
        return f"btrim({value}) NOT LIKE '____-__-__'", "a date YYYY-MM-DD"
    if column.family == "number":
        return f"strpos({value}, 'n') + strpos({value}, 'N') > 0", "a number"
    return None


def shape(column: Column, excluded: str = "") -> str:
    """A regular expression (Python's) that only field texts following ``column``'s format rules match (those
    of ``_wrong_format``, and a value if required), for fields that never hold a character of ``excluded``.
    Stricter than the rules where that keeps it simple (a date's digits are ASCII digits): a field off its
    shape is judged by ``problem`` instead."""
    if column.family == "date":
        return " *[0-9]{4}-[0-9]{2}-[0-9]{2} *" + ("|" if column.nullable else "")
    char = f"[^{excluded}nN]" if column.family == "number" else f"[^{excluded}]" if excluded else "(?s:.)"
    return char + ("*" if column.nullable else "+")


def cast(column: Column, value: str) -> str:
    """The typed value of the staged text ``value``, once ``problem`` found nothing wrong with it (a text column
    takes the text as it is)."""
    return value if column.family == "text" else f"({value})::{column.pg_type}"


def problem(column: Column, value: str) -> str:
    """NULL if the staged text ``value`` loads into ``column``, else the reason it is quarantined."""
    label = quote_literal(f"{column.name}: ")
    # The value in the reason, cut to 60 characters (the whole line is kept beside the reason).
    shown = (
        f"' (' || quote_literal(CASE WHEN length({value}) > 60 THEN left({value}, 60) || '…' ELSE {value} END) || ')'"
    )
    pg_type = quote_literal(column.pg_type)
    checks = []
    if not column.nullable:
        checks.append(f"WHEN {value} IS NULL THEN {label} || 'missing value'")
    if wrong := _wrong_format(column, value):
        checks.append(f"WHEN {wrong[0]} THEN {label} || {quote_literal('not ' + wrong[1])} || {shown}")
    if column.typed or "(" in column.pg_type:  # a text type with a length limit is checked too
        invalid = {
            "date": "impossible date",
            "integer": "not an integer",
            "number": "not a number",
            "text": f"too long for {column.pg_type}",
        }.get(column.family, f"not a valid {column.pg_type}")
        if column.family in ("integer", "number"):
            checks.append(
                f"WHEN (pg_input_error_info({value}, {pg_type})).sql_error_code = '22003' THEN {label} || "
                f"{quote_literal(f'out of range for {column.pg_type}')} || {shown}"
            )
        checks.append(
            f"WHEN NOT pg_input_is_valid({value}, {pg_type}) THEN {label} || {quote_literal(invalid)} || {shown}"
        )
    if not checks:
        return "NULL"
    return f"CASE {' '.join(checks)} END"


def problem_kinds(reason: str) -> list[str]:
    """A quarantine reason's problems without their values, to count them by kind (a row may have several):
    ``order_date: impossible date ('2022-13-01'); amount: not a number ('NaN')`` ->
    ``["order_date: impossible date", "amount: not a number"]``."""
    return [part.split(" (", 1)[0] for part in reason.split("; ")]
