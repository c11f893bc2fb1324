"""Redshift SQL -> PostgreSQL, for the PostgreSQL database that stands in for a Redshift cluster locally.

Pure functions, no I/O. The translation is deliberately small and explicit:

- storage hints PostgreSQL has no use for are stripped from CREATE TABLE: ``DISTKEY``, ``SORTKEY``
  (also ``COMPOUND``/``INTERLEAVED``), ``DISTSTYLE``, ``ENCODE``, ``BACKUP``;
- ``#name`` session-temporary tables become the temporary table ``"#name"`` (quoted, so ``#t`` and ``t``
  stay distinct, as the provider's UPSERT needs);
- ``GETDATE()`` and ``SYSDATE`` become their PostgreSQL equivalents; ``VARCHAR(MAX)`` becomes ``VARCHAR(65535)``;
- ``COPY ... FROM 's3://...'`` is parsed into a :class:`CopyCommand` that the caller executes;
- ``BEGIN``/``COMMIT``/``ROLLBACK`` are returned as :class:`TransactionControl` so the caller keeps its
  driver's transaction state in step.

Redshift-only syntax this module recognises but cannot translate raises :class:`UnsupportedRedshiftSql`
naming it, so a statement fails loudly instead of running with a different meaning.
"""

from __future__ import annotations

import dataclasses
import re

PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_LITERAL = re.compile(
    r"""(?P<string>'(?:[^']|'')*')
      | (?P<ident>"(?:[^"]|"")*")
      | (?P<dollar>\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$)
      | (?P<comment>--[^\n]*|/\*.*?\*/)""",
    re.S | re.X,
)
_FLAGS = re.I | re.S


class UnsupportedRedshiftSql(ValueError):
    """Redshift syntax the local stand-in recognises but does not run."""


@dataclasses.dataclass(frozen=True)
class TransactionControl:
    action: str  # "begin" | "commit" | "rollback"


@dataclasses.dataclass(frozen=True)
class CopyCommand:
    """A Redshift COPY from S3, with the table and columns already in PostgreSQL syntax."""

    table: str
    columns: tuple[str, ...]
    source: str  # s3://bucket/prefix: every object whose key starts with the prefix is loaded
    format: str  # "csv" | "json" | "parquet"
    delimiter: str = ","
    quote: str = '"'
    ignore_header: int = 0
    null_as: str | None = None
    gzip: bool = False
    json_ignore_case: bool = False


@dataclasses.dataclass
class _Masked:
    """SQL with string literals and quoted identifiers replaced by placeholders, comments removed,
    so that keyword rewrites can never touch the inside of a literal."""

    code: str
    literals: list[str]

    @classmethod
    def of(cls, sql: str) -> _Masked:
        literals: list[str] = []

        def hide(match: re.Match) -> str:
            if match.group("comment"):
                return " "
            literals.append(match.group(0))
            return f"\x00{len(literals) - 1}\x00"

        return cls(_LITERAL.sub(hide, sql), literals)

    @classmethod
    def statement(cls, sql: str) -> _Masked:
        """One statement, without its terminating semicolon."""
        masked = cls.of(sql)
        masked.code = masked.code.strip().rstrip(";").strip()
        return masked

    def literal(self, token: str) -> str:
        return self.literals[int(PLACEHOLDER.fullmatch(token).group(1))]

    def unmask(self, code: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.literals[int(m.group(1))], code)


def split_statements(sql: str) -> list[str]:
    """The statements of a SQL text, split on semicolons outside literals and comments."""
    masked = _Masked.of(sql)
    return [masked.unmask(part).strip() for part in masked.code.split(";") if part.strip()]


# --- rejections: Redshift-only syntax that PostgreSQL would reject cryptically or run differently -----------

_REJECTED = [
    (r"^\s*UNLOAD\b", "UNLOAD"),
    (r"\bCREATE\s+EXTERNAL\b", "CREATE EXTERNAL SCHEMA/TABLE (Redshift Spectrum)"),
    (r"\bCREATE\s+(?:OR\s+REPLACE\s+)?LIBRARY\b", "CREATE LIBRARY"),
    (r"^\s*ALTER\s+TABLE\b.*\bAPPEND\s+FROM\b", "ALTER TABLE ... APPEND FROM"),
    (
        r"^\s*ALTER\s+TABLE\b.*\bALTER\s+(?:COMPOUND\s+|INTERLEAVED\s+)?(?:DISTKEY|DISTSTYLE|SORTKEY|ENCODE)\b",
        "ALTER TABLE ... ALTER DISTKEY/DISTSTYLE/SORTKEY/ENCODE",
    ),
    (r"^\s*ALTER\s+TABLE\b.*\bALTER\s+COLUMN\s+\S+\s+ENCODE\b", "ALTER TABLE ... ALTER COLUMN ... ENCODE"),
    (r"^\s*VACUUM\b", "VACUUM"),
    (r"^\s*ANALYZE\s+COMPRESSION\b", "ANALYZE COMPRESSION"),
    (r"\bIDENTITY\s*\(", "IDENTITY(seed, step) columns"),
    (r"::\s*(?:SUPER|VARBYTE|HLLSKETCH)\b", "the SUPER/VARBYTE/HLLSKETCH types"),
    (r"^\s*(?:CREATE|ALTER)\s+.*\bTABLE\b.*\b(?:SUPER|VARBYTE|HLLSKETCH)\b", "the SUPER/VARBYTE/HLLSKETCH types"),
    (r"\bLISTAGG\s*\(", "LISTAGG (use string_agg)"),
    (r"\bAPPROXIMATE\s+(?:COUNT|PERCENTILE_DISC)\b", "APPROXIMATE aggregates"),
    (r"^\s*SELECT\s+(?:DISTINCT\s+)?TOP\s+\d", "SELECT TOP n (use LIMIT n)"),
    (
        r"^\s*(?:CREATE|ALTER)\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+VIEW)\b.*\bAUTO\s+REFRESH\b",
        "materialized view AUTO REFRESH",
    ),
]


def _reject_untranslatable(code: str) -> None:
    for pattern, name in _REJECTED:
        if re.search(pattern, code, _FLAGS):
            raise UnsupportedRedshiftSql(f"Redshift {name} is not supported by the local Redshift stand-in")


# --- rewrites ------------------------------------------------------------------------------------------------

_CREATE_TABLE = re.compile(r"^\s*CREATE\s+(?:(?:LOCAL\s+)?(?:TEMP|TEMPORARY)\s+)?TABLE\b", _FLAGS)
_STORAGE_HINTS = [  # parenthesised forms first, then the bare column attributes
    r"\b(?:COMPOUND\s+|INTERLEAVED\s+)?SORTKEY\s*\([^)]*\)",
    r"\bSORTKEY\s+AUTO\b",
    r"\bDISTKEY\s*\([^)]*\)",
    r"\bDISTSTYLE\s+(?:AUTO|EVEN|KEY|ALL)\b",
    r"\bENCODE\s+[A-Za-z0-9_]+",
    r"\bBACKUP\s+(?:YES|NO)\b",
    r"\bDISTKEY\b",
    r"\bSORTKEY\b",
]
_TEMP_NAME = re.compile(r"(?<![\w$#])#([A-Za-z_][\w$]*)")
_REWRITES = [
    (re.compile(r"\bGETDATE\s*\(\s*\)", re.I), "CAST(date_trunc('second', statement_timestamp()) AS timestamp)"),
    (re.compile(r"\bSYSDATE\b", re.I), "LOCALTIMESTAMP"),
    (re.compile(r"\b(?:VARCHAR|CHARACTER\s+VARYING)\s*\(\s*MAX\s*\)", re.I), "VARCHAR(65535)"),
]


def _rewrite(code: str) -> str:
    if _CREATE_TABLE.match(code):
        for pattern in _STORAGE_HINTS:
            code = re.sub(pattern, " ", code, flags=_FLAGS)
        code = re.sub(
            r"^(\s*CREATE)\s+TABLE(\s+(?:IF\s+NOT\s+EXISTS\s+)?#)", r"\1 TEMPORARY TABLE\2", code, flags=_FLAGS
        )
    elif re.match(r"^\s*SELECT\b", code, re.I):  # SELECT ... INTO #t creates a session-temporary table too
        code = re.sub(r"\bINTO\s+(?=#)", "INTO TEMPORARY TABLE ", code, flags=re.I)
    code = _TEMP_NAME.sub(lambda m: f'"#{m.group(1).lower()}"', code)
    for pattern, replacement in _REWRITES:
        code = pattern.sub(replacement, code)
    return code


# --- COPY ----------------------------------------------------------------------------------------------------

_COPY = re.compile(
    r"^\s*COPY\s+(?P<table>[^\s(]+)\s*(?:\((?P<columns>[^)]*)\))?\s*FROM\s+(?P<source>\S+)(?P<options>.*)$", _FLAGS
)
_OPTION_TOKEN = re.compile(r"\x00\d+\x00|[A-Za-z_]+|\d+|\S")
_IGNORED_AUTH = {"IAM_ROLE", "CREDENTIALS", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN", "REGION"}
_UNSUPPORTED_FORMATS = {"AVRO", "ORC", "FIXEDWIDTH", "SHAPEFILE"}
# Formats PostgreSQL's own date/time input parses the same way, so they need no translation.
_ISO_FORMATS = {
    "DATEFORMAT": {"auto", "yyyy-mm-dd"},
    "TIMEFORMAT": {"auto", "yyyy-mm-dd hh:mi:ss", "yyyy-mm-dd hh24:mi:ss", "yyyy-mm-ddthh:mi:ss"},
}


class _Tokens:
    def __init__(self, masked: _Masked, text: str):
        self.masked = masked
        self.items = _OPTION_TOKEN.findall(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def next(self) -> str | None:
        token = self.peek()
        self.pos += 1
        return token

    def skip_word(self, word: str) -> None:
        if (self.peek() or "").upper() == word:
            self.pos += 1

    def literal(self, option: str) -> str:
        self.skip_word("AS")
        token = self.next()
        if token is None or not PLACEHOLDER.fullmatch(token):
            raise UnsupportedRedshiftSql(f"COPY option {option} needs a quoted value")
        return self.masked.literal(token)[1:-1].replace("''", "'")


def parse_copy(statement: str) -> CopyCommand | None:
    """The COPY command in ``statement``, or None when it is not a COPY."""
    masked = _Masked.statement(statement)
    match = _COPY.match(masked.code)
    if not match:
        if re.match(r"^\s*COPY\b", masked.code, re.I):
            raise UnsupportedRedshiftSql("COPY statement not understood by the local Redshift stand-in")
        return None
    source_token = match.group("source")
    source = masked.literal(source_token)[1:-1] if PLACEHOLDER.fullmatch(source_token) else source_token
    if not source.startswith("s3://"):
        raise UnsupportedRedshiftSql(f"COPY FROM {source} is not supported locally (only s3:// prefixes)")
    columns = tuple(
        masked.unmask(_TEMP_NAME.sub(lambda m: f'"#{m.group(1).lower()}"', c)).strip()
        for c in (match.group("columns") or "").split(",")
        if c.strip()
    )
    options: dict = {}
    tokens = _Tokens(masked, match.group("options"))
    while (token := tokens.next()) is not None:
        word = token.upper()
        if word == "FORMAT":
            tokens.skip_word("AS")
            word = (tokens.next() or "").upper()
        if word == "CSV":
            options["format"] = "csv"
            if (tokens.peek() or "").upper() == "QUOTE":
                tokens.next()
                options["quote"] = tokens.literal("QUOTE")
        elif word == "JSON":
            options["format"] = "json"
            token = tokens.peek()
            mode = tokens.literal("JSON").lower() if token and PLACEHOLDER.fullmatch(token) else "auto"
            if mode not in ("auto", "auto ignorecase"):
                raise UnsupportedRedshiftSql(
                    f"COPY JSON '{mode}' is not supported locally (only JSON 'auto' and 'auto ignorecase')"
                )
            options["json_ignore_case"] = mode == "auto ignorecase"
        elif word == "PARQUET":
            options["format"] = "parquet"
        elif word in _UNSUPPORTED_FORMATS:
            raise UnsupportedRedshiftSql(f"COPY FORMAT {word} is not supported locally (CSV, JSON 'auto', PARQUET)")
        elif word in _IGNORED_AUTH:  # the local S3 needs no credentials from the statement
            if word == "IAM_ROLE" and (tokens.peek() or "").upper() == "DEFAULT":
                tokens.next()
            else:
                tokens.literal(word)
        elif word == "DELIMITER":
            options["delimiter"] = tokens.literal(word)
        elif word == "QUOTE":
            options["quote"] = tokens.literal(word)
        elif word == "NULL":
            options["null_as"] = tokens.literal(word)
        elif word == "IGNOREHEADER":
            tokens.skip_word("AS")
            count = tokens.next() or ""
            if not count.isdigit():
                raise UnsupportedRedshiftSql("COPY option IGNOREHEADER needs a row count")
            options["ignore_header"] = int(count)
        elif word in ("TIMEFORMAT", "DATEFORMAT"):
            value = tokens.literal(word)
            if value.lower() not in _ISO_FORMATS[word]:
                raise UnsupportedRedshiftSql(
                    f"COPY {word} '{value}' is not supported locally (only 'auto' and the ISO "
                    f"{' / '.join(repr(f.upper()) for f in sorted(_ISO_FORMATS[word]) if f != 'auto')})"
                )
        elif word == "GZIP":
            options["gzip"] = True
        elif word in ("COMPUPDATE", "STATUPDATE"):  # statistics hints
            if (tokens.peek() or "").upper() in ("ON", "OFF", "TRUE", "FALSE", "PRESET"):
                tokens.next()
        else:
            raise UnsupportedRedshiftSql(f"COPY option {masked.unmask(token)} is not supported locally")
    if "format" not in options:
        raise UnsupportedRedshiftSql(
            "COPY without FORMAT (Redshift's pipe-delimited text) is not supported locally: use CSV, JSON 'auto' "
            "or PARQUET"
        )
    if options["format"] != "csv" and {"delimiter", "quote", "null_as", "ignore_header"} & options.keys():
        raise UnsupportedRedshiftSql("COPY DELIMITER/QUOTE/NULL AS/IGNOREHEADER apply to CSV only")
    table = masked.unmask(_TEMP_NAME.sub(lambda m: f'"#{m.group(1).lower()}"', match.group("table")))
    return CopyCommand(table=table, columns=columns, source=source, **options)


# --- entry points --------------------------------------------------------------------------------------------

_TRANSACTION = [
    (re.compile(r"^\s*(?:BEGIN|START\s+TRANSACTION)(?:\s+(?:WORK|TRANSACTION))?\s*$", re.I), "begin"),
    (re.compile(r"^\s*(?:COMMIT|END)(?:\s+(?:WORK|TRANSACTION))?\s*$", re.I), "commit"),
    (re.compile(r"^\s*(?:ROLLBACK|ABORT)(?:\s+(?:WORK|TRANSACTION))?\s*$", re.I), "rollback"),
]


def translate(statement: str) -> str | CopyCommand | TransactionControl:
    """One Redshift statement as PostgreSQL SQL, a COPY to execute, or a transaction control."""
    masked = _Masked.statement(statement)
    for pattern, action in _TRANSACTION:
        if pattern.match(masked.code):
            return TransactionControl(action)
    copy = parse_copy(statement)
    if copy is not None:
        return copy
    _reject_untranslatable(masked.code)
    return masked.unmask(_rewrite(masked.code)).strip()


def commits_implicitly(sql: str) -> bool:
    """Whether Redshift commits the transaction when it runs this (translated) statement, as it does TRUNCATE."""
    return bool(re.match(r"^\s*TRUNCATE\b", _Masked.of(sql).code, re.I))


def bind_parameters(sql: str, parameters: list[dict] | None) -> tuple[str, dict | None]:
    """Turn Redshift Data API ``:name`` placeholders into psycopg2 ``%(name)s`` ones.

    Returns the SQL and the values to pass with it (None when there are no parameters, so that a literal
    ``%`` needs no escaping)."""
    if not parameters:
        return sql, None
    values = {p["name"]: p["value"] for p in parameters}
    masked = _Masked.of(sql)

    def placeholder(match: re.Match) -> str:
        if match.group(1) not in values:
            raise UnsupportedRedshiftSql(f"no value given for parameter :{match.group(1)}")
        return f"%({match.group(1)})s"

    code = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", placeholder, masked.code.replace("%", "%%"))
    masked.literals = [literal.replace("%", "%%") for literal in masked.literals]
    return masked.unmask(code), values
