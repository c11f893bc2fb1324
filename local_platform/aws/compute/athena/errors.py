"""The errors a query can fail with, worded and categorised as Athena reports them.

``StateChangeReason`` is ``<ERROR_NAME>: <message>`` (Trino's error names, e.g. ``TABLE_NOT_FOUND: line 1:15:
Table 'awsdatacatalog.db.x' does not exist``); ``AthenaError`` carries ``ErrorCategory`` (1 system, 2 user,
3 other) and an ``ErrorType`` from Athena's error catalog.
"""

from __future__ import annotations

SYSTEM, USER, OTHER = 1, 2, 3

# Trino error name -> Athena ErrorType (Athena's error catalog: 1000 user error, 1001 data error, 1003 DDL task
# failed, 1004 schema error, 1006 syntax error, 1100 invalid argument, 200 engine internal error).
ERROR_TYPES = {
    "SYNTAX_ERROR": 1006,
    "TABLE_NOT_FOUND": 1004,
    "SCHEMA_NOT_FOUND": 1004,
    "COLUMN_NOT_FOUND": 1004,
    "AMBIGUOUS_NAME": 1004,
    "TYPE_MISMATCH": 1004,
    "FUNCTION_NOT_FOUND": 1004,
    "EXPRESSION_NOT_AGGREGATE": 1004,
    "MISSING_COLUMN_NAME": 1004,
    "DUPLICATE_COLUMN_NAME": 1004,
    "INVALID_CAST_ARGUMENT": 1001,
    "NUMERIC_VALUE_OUT_OF_RANGE": 1001,
    "DIVISION_BY_ZERO": 1001,
    "INVALID_FUNCTION_ARGUMENT": 1001,
    "HIVE_BAD_DATA": 1001,
    "HIVE_CURSOR_ERROR": 1001,
    "HIVE_PATH_ALREADY_EXISTS": 1003,
    "HIVE_TOO_MANY_OPEN_PARTITIONS": 1003,
    "ALREADY_EXISTS": 1003,
    "DDL_FAILED": 1003,
    "NOT_SUPPORTED": 1000,
    "INVALID_TABLE_PROPERTY": 1101,
    "GENERIC_USER_ERROR": 1000,
    "GENERIC_INTERNAL_ERROR": 200,
    "USER_CANCELED": 1011,
}


class AthenaQueryError(Exception):
    """A query failed; ``reason`` is its StateChangeReason."""

    def __init__(
        self, name: str, message: str, *, category: int | None = None, position: tuple[int, int] | None = None
    ):
        self.name = name
        self.message = f"line {position[0]}:{position[1]}: {message}" if position else message
        self.category = category or (SYSTEM if name == "GENERIC_INTERNAL_ERROR" else USER)
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        return f"{self.name}: {self.message}"

    @property
    def error_type(self) -> int:
        return ERROR_TYPES.get(self.name, 1000 if self.category == USER else 200)

    def athena_error(self) -> dict:
        return {
            "ErrorCategory": self.category,
            "ErrorType": self.error_type,
            "Retryable": self.category == SYSTEM,
            "ErrorMessage": self.reason,
        }


def not_supported(construct: str, position: tuple[int, int] | None = None) -> AthenaQueryError:
    """What the local engine cannot run faithfully: refused, naming the construct, never run differently."""
    return AthenaQueryError(
        "NOT_SUPPORTED", f"{construct} is not supported by the local Athena engine", position=position
    )


def position_of(sql: str, offset: int | None) -> tuple[int, int] | None:
    """(line, column), both from 1, of a character offset in the query text, as Athena's messages give it."""
    if offset is None or offset < 0:
        return None
    before = sql[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1
