"""Athena's Hive DDL, parsed by hand: a statement becomes a dataclass that :mod:`engine` applies to the catalog.

Hive DDL is not Trino, and sqlglot's ``hive`` dialect falls back to an opaque command for half of what Athena
accepts (``ALTER TABLE ... ADD PARTITION ... LOCATION``, ``MSCK``, ``SHOW PARTITIONS``), so a small tokenizer
and recursive-descent parser cover exactly the statements the local engine acts on. ``parse`` returns ``None``
for anything that is not one of them (queries, CTAS, INSERT), which goes to the Trino path.
"""

from __future__ import annotations

import dataclasses
import re

from local_platform.aws.compute.athena.errors import AthenaQueryError, not_supported, position_of

PRIMITIVE_TYPES = {
    "string",
    "varchar",
    "char",
    "tinyint",
    "smallint",
    "int",
    "integer",
    "bigint",
    "float",
    "real",
    "double",
    "boolean",
    "date",
    "timestamp",
    "decimal",
    "binary",
}


@dataclasses.dataclass
class Name:
    database: str | None
    name: str


@dataclasses.dataclass
class CreateDatabase:
    name: str
    if_not_exists: bool
    comment: str | None = None
    location: str | None = None
    properties: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class DropDatabase:
    name: str
    if_exists: bool
    cascade: bool


@dataclasses.dataclass
class CreateTable:
    table: Name
    external: bool
    if_not_exists: bool
    columns: list[tuple[str, str, str | None]]  # name, Hive type, comment
    partition_keys: list[tuple[str, str, str | None]]
    comment: str | None = None
    serde: str | None = None
    serde_parameters: dict[str, str] = dataclasses.field(default_factory=dict)
    input_format: str | None = None
    output_format: str | None = None
    stored_as: str | None = None
    location: str | None = None
    properties: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class DropTable:
    table: Name
    if_exists: bool


@dataclasses.dataclass
class AddPartitions:
    table: Name
    if_not_exists: bool
    partitions: list[tuple[dict[str, str], str | None]]  # (key -> value, location)


@dataclasses.dataclass
class DropPartitions:
    table: Name
    if_exists: bool
    partitions: list[dict[str, str]]


@dataclasses.dataclass
class RepairTable:
    table: Name


@dataclasses.dataclass
class ShowPartitions:
    table: Name


@dataclasses.dataclass
class ShowTables:
    database: str | None
    pattern: str | None


@dataclasses.dataclass
class ShowDatabases:
    pattern: str | None


DdlStatement = (
    CreateDatabase
    | DropDatabase
    | CreateTable
    | DropTable
    | AddPartitions
    | DropPartitions
    | RepairTable
    | ShowPartitions
    | ShowTables
    | ShowDatabases
)

# ---- tokens ----------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<quoted>`(?:[^`]|``)*`|"(?:[^"]|"")*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<symbol>.)
""",
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


def _unescape(body: str) -> str:
    """A Hive string literal's value: backslash escapes, including octal ``\\001``."""
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            octal = re.match(r"[0-7]{3}", body[i + 1 : i + 4])
            if octal:
                out.append(chr(int(octal.group(), 8)))
                i += 4
                continue
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
            continue
        if char == "'" and body[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


@dataclasses.dataclass
class Token:
    kind: str  # word | quoted | string | number | symbol | end
    text: str
    value: str
    offset: int


def tokenize(sql: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(sql):
        match = _TOKEN.match(sql, position)
        if not match:
            raise AthenaQueryError(
                "SYNTAX_ERROR", f"mismatched input '{sql[position]}'", position=position_of(sql, position)
            )
        kind = match.lastgroup
        text = match.group()
        if kind == "string":
            tokens.append(Token(kind, text, _unescape(text[1:-1]), position))
        elif kind == "quoted":
            tokens.append(Token(kind, text, text[1:-1].replace(text[0] * 2, text[0]), position))
        elif kind != "space":
            tokens.append(Token(kind, text, text, position))
        position = match.end()
    while tokens and tokens[-1].text == ";":
        tokens.pop()
    tokens.append(Token("end", "<EOF>", "", len(sql)))
    return tokens


class Parser:
    def __init__(self, sql: str):
        self.sql = sql
        self.tokens = tokenize(sql)
        self.i = 0

    # -- primitives --

    @property
    def current(self) -> Token:
        return self.tokens[self.i]

    def peek(self, *words: str) -> bool:
        """Whether the next tokens are these keywords (case-insensitive)."""
        for n, word in enumerate(words):
            token = self.tokens[min(self.i + n, len(self.tokens) - 1)]
            if token.kind == "quoted" or token.text.upper() != word:
                return False
        return True

    def accept(self, *words: str) -> bool:
        if self.peek(*words):
            self.i += len(words)
            return True
        return False

    def error(self, expecting: str) -> AthenaQueryError:
        token = self.current
        return AthenaQueryError(
            "SYNTAX_ERROR",
            f"mismatched input '{token.text}'. Expecting: {expecting}",
            position=position_of(self.sql, token.offset),
        )

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.error(" ".join(f"'{w}'" for w in words))

    def identifier(self) -> str:
        token = self.current
        if token.kind not in ("word", "quoted"):
            raise self.error("<identifier>")
        self.i += 1
        return token.value.lower()

    def string(self) -> str:
        token = self.current
        if token.kind != "string":
            raise self.error("<string>")
        self.i += 1
        return token.value

    def name(self) -> Name:
        first = self.identifier()
        if self.accept("."):
            return Name(first, self.identifier())
        return Name(None, first)

    def end(self) -> None:
        if self.current.kind != "end":
            raise self.error("<EOF>")

    def properties(self) -> dict[str, str]:
        """``('k'='v', ...)``"""
        self.expect("(")
        found = {}
        while True:
            key = self.string()
            self.expect("=")
            found[key] = self.string()
            if not self.accept(","):
                break
        self.expect(")")
        return found

    # -- types and columns --

    def hive_type(self) -> str:
        token = self.current
        base = self.identifier()
        if base in ("array", "map", "struct"):
            self.expect("<")
            if base == "array":
                inner = self.hive_type()
            elif base == "map":
                inner = f"{self.hive_type()},"
                self.expect(",")
                inner += self.hive_type()
            else:
                fields = []
                while True:
                    field_name = self.identifier()
                    self.expect(":")
                    fields.append(f"{field_name}:{self.hive_type()}")
                    if not self.accept(","):
                        break
                inner = ",".join(fields)
            self.expect(">")
            return f"{base}<{inner}>"
        if base not in PRIMITIVE_TYPES:
            raise AthenaQueryError(
                "SYNTAX_ERROR", f"Unknown type '{token.value}'", position=position_of(self.sql, token.offset)
            )
        base = {"integer": "int", "real": "float"}.get(base, base)
        if self.accept("("):
            args = [self.current.text]
            self.i += 1
            while self.accept(","):
                args.append(self.current.text)
                self.i += 1
            self.expect(")")
            return f"{base}({','.join(args)})"
        return base

    def columns(self) -> list[tuple[str, str, str | None]]:
        self.expect("(")
        found, seen = [], set()
        while True:
            token = self.current
            name = self.identifier()
            if name in seen:
                raise AthenaQueryError(
                    "DUPLICATE_COLUMN_NAME",
                    f"Column name '{name}' specified more than once",
                    position=position_of(self.sql, token.offset),
                )
            seen.add(name)
            column_type = self.hive_type()
            comment = self.string() if self.accept("COMMENT") else None
            found.append((name, column_type, comment))
            if not self.accept(","):
                break
        self.expect(")")
        return found

    def partition_spec(self) -> dict[str, str]:
        self.expect("PARTITION")
        self.expect("(")
        spec = {}
        while True:
            key = self.identifier()
            self.expect("=")
            token = self.current
            if token.kind not in ("string", "number"):
                raise self.error("<partition value>")
            self.i += 1
            spec[key] = token.value
            if not self.accept(","):
                break
        self.expect(")")
        return spec

    # -- statements --

    def statement(self) -> DdlStatement | None:
        if self.accept("CREATE"):
            if self.accept("DATABASE") or self.accept("SCHEMA"):
                return self.create_database()
            external = self.accept("EXTERNAL")
            if self.accept("TABLE"):
                return self.create_table(external)
            return None
        if self.accept("DROP"):
            if self.accept("DATABASE") or self.accept("SCHEMA"):
                if_exists = self.accept("IF", "EXISTS")
                name = self.identifier()
                cascade = self.accept("CASCADE")
                if not cascade:
                    self.accept("RESTRICT")
                self.end()
                return DropDatabase(name, if_exists, cascade)
            if self.accept("TABLE"):
                if_exists = self.accept("IF", "EXISTS")
                name = self.name()
                self.accept("PURGE")
                self.end()
                return DropTable(name, if_exists)
            raise not_supported(f"DROP {self.current.text.upper()}", position_of(self.sql, self.current.offset))
        if self.accept("ALTER"):
            if not self.accept("TABLE"):
                raise not_supported(f"ALTER {self.current.text.upper()}", position_of(self.sql, self.current.offset))
            return self.alter_table()
        if self.accept("MSCK"):
            self.expect("REPAIR")
            self.expect("TABLE")
            name = self.name()
            self.end()
            return RepairTable(name)
        if self.accept("SHOW"):
            return self.show()
        return None

    def create_database(self) -> CreateDatabase:
        statement = CreateDatabase("", self.accept("IF", "NOT", "EXISTS"))
        statement.name = self.identifier()
        while self.current.kind != "end":
            if self.accept("COMMENT"):
                statement.comment = self.string()
            elif self.accept("LOCATION"):
                statement.location = self.string()
            elif self.accept("WITH", "DBPROPERTIES"):
                statement.properties = self.properties()
            else:
                raise self.error("COMMENT, LOCATION, WITH DBPROPERTIES")
        return statement

    def create_table(self, external: bool) -> CreateTable | None:
        if_not_exists = self.accept("IF", "NOT", "EXISTS")
        name = self.name()
        if self.peek("WITH") or self.peek("AS"):
            return None  # CREATE TABLE ... [WITH (...)] AS SELECT: Trino's CTAS
        if self.peek("LIKE"):
            raise not_supported("CREATE TABLE ... LIKE", position_of(self.sql, self.current.offset))
        statement = CreateTable(name, external, if_not_exists, self.columns(), [])
        while self.current.kind != "end":
            token = self.current
            if self.accept("COMMENT"):
                statement.comment = self.string()
            elif self.accept("PARTITIONED", "BY"):
                statement.partition_keys = self.columns()
                clash = {c[0] for c in statement.columns} & {c[0] for c in statement.partition_keys}
                if clash:
                    raise AthenaQueryError(
                        "DUPLICATE_COLUMN_NAME", f"Partition column '{sorted(clash)[0]}' is also a table column"
                    )
            elif self.peek("CLUSTERED") or self.peek("SKEWED") or self.peek("SORTED"):
                raise not_supported(
                    f"{token.text.upper()} BY (bucketed or skewed tables)", position_of(self.sql, token.offset)
                )
            elif self.accept("ROW", "FORMAT"):
                self.row_format(statement)
            elif self.accept("STORED", "AS"):
                if self.accept("INPUTFORMAT"):
                    statement.input_format = self.string()
                    self.expect("OUTPUTFORMAT")
                    statement.output_format = self.string()
                else:
                    statement.stored_as = self.identifier().upper()
            elif self.accept("LOCATION"):
                statement.location = self.string()
            elif self.accept("TBLPROPERTIES"):
                statement.properties = {
                    k.lower() if k.lower() == "skip.header.line.count" else k: v for k, v in self.properties().items()
                }
            else:
                raise self.error("COMMENT, PARTITIONED BY, ROW FORMAT, STORED AS, LOCATION, TBLPROPERTIES")
        return statement

    def row_format(self, statement: CreateTable) -> None:
        if self.accept("SERDE"):
            statement.serde = self.string()
            if self.accept("WITH", "SERDEPROPERTIES"):
                statement.serde_parameters = self.properties()
            return
        self.expect("DELIMITED")
        statement.serde = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
        params = statement.serde_parameters
        while True:
            if self.accept("FIELDS", "TERMINATED", "BY"):
                params["field.delim"] = params["serialization.format"] = self.string()
                if self.accept("ESCAPED", "BY"):
                    params["escape.delim"] = self.string()
            elif self.accept("COLLECTION", "ITEMS", "TERMINATED", "BY"):
                params["collection.delim"] = self.string()
            elif self.accept("MAP", "KEYS", "TERMINATED", "BY"):
                params["mapkey.delim"] = self.string()
            elif self.accept("LINES", "TERMINATED", "BY"):
                params["line.delim"] = self.string()
            elif self.accept("NULL", "DEFINED", "AS"):
                params["serialization.null.format"] = self.string()
            else:
                return

    def alter_table(self) -> DdlStatement:
        name = self.name()
        if self.accept("ADD"):
            if_not_exists = self.accept("IF", "NOT", "EXISTS")
            partitions = []
            while self.peek("PARTITION"):
                spec = self.partition_spec()
                partitions.append((spec, self.string() if self.accept("LOCATION") else None))
            if not partitions:
                raise not_supported(
                    f"ALTER TABLE ADD {self.current.text.upper()}", position_of(self.sql, self.current.offset)
                )
            self.end()
            return AddPartitions(name, if_not_exists, partitions)
        if self.accept("DROP"):
            if_exists = self.accept("IF", "EXISTS")
            partitions = [self.partition_spec()]
            while self.accept(","):
                partitions.append(self.partition_spec())
            self.end()
            return DropPartitions(name, if_exists, partitions)
        token = self.current
        raise not_supported(f"ALTER TABLE ... {token.text.upper()}", position_of(self.sql, token.offset))

    def show(self) -> DdlStatement:
        if self.accept("PARTITIONS"):
            name = self.name()
            self.end()
            return ShowPartitions(name)
        if self.accept("TABLES"):
            database = self.identifier() if (self.accept("IN") or self.accept("FROM")) else None
            pattern = self.string() if self.current.kind == "string" else None
            self.end()
            return ShowTables(database, pattern)
        if self.accept("DATABASES") or self.accept("SCHEMAS"):
            pattern = self.string() if (self.accept("LIKE") or self.current.kind == "string") else None
            self.end()
            return ShowDatabases(pattern)
        token = self.current
        raise not_supported(f"SHOW {token.text.upper()}", position_of(self.sql, token.offset))


def parse(sql: str) -> DdlStatement | None:
    """The Hive DDL statement ``sql`` is, or None if it is none of them (then it is Trino SQL)."""
    return Parser(sql).statement()


def hive_glob(pattern: str) -> re.Pattern:
    """SHOW TABLES/DATABASES patterns: ``*`` any characters, ``|`` alternatives, case-insensitive."""
    alternatives = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)
