"""The CSV's structure, checked in one streaming pass (pure Python, no database): which lines are records, which
records are malformed and why, and the records as ``COPY ... (FORMAT csv)`` input.

A record is set aside, with its raw text and a reason, when it is not valid UTF-8, holds a NUL byte, has quotes
that do not close, has the wrong number of fields, or has a line break or tab in a typed field (PostgreSQL would
read past those, changing the value). Nothing is altered: a record's text is what the file holds; only line
terminators (``\\n``, ``\\r\\n``) are not part of values. Blank lines are not records; a byte-order mark before
the header is not part of the first name. The other records go on in one of two forms (``Layout``):

- typed: the record as it is (plus a suffix, e.g. the slice's value), for a ``COPY`` whose columns have the
  target's types, so that PostgreSQL casts while it reads. Every field must match its shape (``columns.shape``):
  the first that does not raises ``OffShape``, since the file then needs the checks below;
- staged: ``<line number>,<raw or empty>,<record>``, for a ``COPY`` into text columns that SQL then checks
  row by row, set-wise.

Speed: a block of lines (one chunk of the object) with no quote, no carriage return but line ends, no NUL and
no tab is passed on with a few C-level string operations: one regular expression over the whole block (typed),
or a comma count per line (staged). Any other block goes line by line: a record with quotes is parsed by the
``csv`` module and passed on in canonical quoting, so that PostgreSQL reads exactly the fields Python counted.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import functools
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence

from pipeline_kit.s3_to_postgres.columns import Column, shape

MAX_RECORD_LINES = 1000  # a quoted field may span lines; past this a quote is taken as unbalanced
_TYPED_FIELD_WHITESPACE = ("\t", "\n", "\r", "\x0b", "\x0c")
_SLOW_BLOCK_MARKS = ('"', "\x00", "\t", "\x0b", "\x0c")
_QUOTE_ALL = {"quoting": csv.QUOTE_ALL, "lineterminator": "\n"}
_PLAIN_FIELD_EXCLUDES = r",\n"  # what a field of a plain line never holds (a regular expression's class)


class HeaderError(ValueError):
    """The file's header cannot be read: no row of it can load."""


class OffShape(ValueError):
    """A field does not match its shape: the typed form cannot take this file."""


@dataclasses.dataclass(frozen=True)
class Layout:
    """How records go to COPY, decided once the header is read: ``fields`` names the target column each field of
    a record fills (None: none); ``typed_form`` chooses the typed form (else staged), whose records get
    ``suffix`` appended."""

    fields: Sequence[Column | None]
    typed_form: bool = False
    suffix: str = ""

    @property
    def width(self) -> int:
        return len(self.fields)

    @functools.cached_property
    def typed(self) -> frozenset[int]:
        """Positions of typed fields (a line break or tab in one is rejected)."""
        return frozenset(i for i, column in enumerate(self.fields) if column and column.typed)

    @functools.cached_property
    def block_pattern(self) -> re.Pattern:
        """A block of plain lines (no quotes: every comma splits fields) all in shape. A line ``\\.`` alone would
        end COPY's input: never in shape."""
        fields = ",".join(f"(?:{self._shape(column, _PLAIN_FIELD_EXCLUDES)})" for column in self.fields)
        line = r"(?!\\\.(?:\n|\Z))" + fields
        return re.compile(f"{line}(?:\\n{line})*")

    @functools.cached_property
    def field_patterns(self) -> list[re.Pattern]:
        """By position: one field, as the csv module read it, in shape."""
        return [re.compile(self._shape(column, "")) for column in self.fields]

    @staticmethod
    def _shape(column: Column | None, excluded: str) -> str:
        return shape(column, excluded) if column else f"[^{excluded}]*" if excluded else "(?s:.)*"


@dataclasses.dataclass(frozen=True)
class Reject:
    line_number: int
    raw_line: str
    reason: str


@dataclasses.dataclass
class Structure:
    """What the pass found: the header, the records read, structural rejects, blank lines skipped."""

    header: list[str] = dataclasses.field(default_factory=list)
    read: int = 0
    blank_lines: int = 0
    rejects: list[Reject] = dataclasses.field(default_factory=list)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _blocks(chunks: Iterable[bytes]) -> Iterator[str | list[tuple[str | None, str]]]:
    """The bytes as blocks of complete lines: a str when the block is valid UTF-8 (its lines joined by ``\\n``,
    no final one), else a list of ``(line or None, raw)`` decoded line by line."""
    pending = b""
    for chunk in chunks:
        data = pending + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            continue
        complete, pending = data[:cut], data[cut + 1 :]
        try:
            yield complete.decode("utf-8")
        except UnicodeDecodeError:
            yield [_decode_one(raw) for raw in complete.split(b"\n")]
    if pending:  # the last line, without a line break after it
        yield [_decode_one(pending)]


def _decode_one(raw: bytes) -> tuple[str | None, str]:
    try:
        line = raw.decode("utf-8")
        return line, line
    except UnicodeDecodeError:
        return None, raw.decode("utf-8", errors="backslashreplace")


class _Lines:
    """Blocks one by one while the caller can take them whole, else line by line (with push-back)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._blocks = _blocks(chunks)
        self._items: collections.deque[tuple[str | None, str]] = collections.deque()

    @property
    def idle(self) -> bool:
        return not self._items

    def block(self) -> str | list | None:
        return next(self._blocks, None)

    def feed(self, block: str | list) -> None:
        if isinstance(block, str):
            self._items.extend((line, line) for line in block.split("\n"))
        else:
            self._items.extend(block)

    def next_line(self) -> tuple[str | None, str] | None:
        while not self._items:
            block = self.block()
            if block is None:
                return None
            self.feed(block)
        return self._items.popleft()

    def push_back(self, items: Sequence[tuple[str | None, str]]) -> None:
        self._items.extendleft(reversed(items))

    def rest_of_block(self) -> str | None:
        """What is left of the block being read line by line, as a block again (when it is valid UTF-8)."""
        items, self._items = self._items, collections.deque()
        if any(line is None for line, _ in items):
            self._items = items
            return None
        return "\n".join(line for line, _ in items) if items else None


def parse_header(line: str) -> list[str]:
    return [name.strip() for name in next(csv.reader([line.lstrip("\ufeff").rstrip("\r")]))]


def copy_records(chunks: Iterable[bytes], on_header, structure: Structure) -> Iterator[str]:
    """COPY (FORMAT csv) input, as text blocks of lines in the form the ``Layout`` says, for the well-formed
    records of the CSV in ``chunks`` (first line: header). ``on_header(header)`` checks the header (raising if no
    row can load) and returns the ``Layout``. Fills ``structure`` as it goes; raises ``OffShape`` (typed form)."""
    lines = _Lines(chunks)
    number = 0
    while (item := lines.next_line()) is not None:
        number += 1
        line, raw = item
        if line is None:
            raise HeaderError(f"the header is not valid UTF-8: {raw[:200]!r}")
        if line.strip():
            break
    else:
        return
    structure.header = parse_header(line)
    layout = on_header(structure.header)
    machine = _RecordMachine(lines, layout, structure)
    plain_block = _typed_block if layout.typed_form else _staged_block
    rest = lines.rest_of_block()  # the lines after the header can take the fast path too
    while True:
        if lines.idle:
            block, rest = (rest, None) if rest is not None else (lines.block(), None)
            if block is None:
                return
            if isinstance(block, str) and (plain := _plain_text(block)) is not None:
                count = plain.count("\n") + 1
                if (out := plain_block(plain, number, layout)) is not None:
                    structure.read += count
                    number += count
                    yield out
                    continue
            lines.feed(block)
        number, out = machine.step(number)
        if out is not None:
            yield out


def _plain_text(block: str) -> str | None:
    """The block with ``\\n`` line ends if nothing in it needs a closer look (quotes, NUL, tabs, a lone CR)."""
    if any(mark in block for mark in _SLOW_BLOCK_MARKS):
        return None
    if "\r" in block:
        # Windows line ends only: every line ends with \r and there is no other.
        if not block.endswith("\r") or block.count("\r") != block.count("\r\n") + 1:
            return None
        return block[:-1].replace("\r\n", "\n")
    return block


def _staged_block(block: str, number: int, layout: Layout) -> str | None:
    """Staged lines for a plain block whose every line has the right field count (after line ``number``)."""
    records = block.split("\n")
    if list(map(str.count, records, itertools.repeat(","))).count(layout.width - 1) != len(records):
        return None  # a blank line or a wrong field count: line by line
    return "".join([f"{n},,{record}\n" for n, record in enumerate(records, number + 1)])


def _typed_block(block: str, number: int, layout: Layout) -> str | None:
    """The plain block as typed lines, if every line has its fields in shape (else: line by line)."""
    if not layout.block_pattern.fullmatch(block):
        return None
    end = layout.suffix + "\n"
    return block.replace("\n", end) + end if layout.suffix else block + "\n"


class _RecordMachine:
    """Line-by-line reading of one record at a time (quotes, blank lines, rejects)."""

    def __init__(self, lines: _Lines, layout: Layout, structure: Structure):
        self.lines, self.layout, self.structure = lines, layout, structure

    def reject(self, number: int, raw: str, reason: str) -> None:
        self.structure.rejects.append(Reject(number, raw, reason))

    def step(self, number: int) -> tuple[int, str | None]:
        """Read the next record; return the line count so far and its COPY line (None: nothing to load)."""
        structure = self.structure
        item = self.lines.next_line()
        if item is None:
            return number, None
        number += 1
        line, raw = item
        if line is None:
            structure.read += 1
            self.reject(number, raw, "not valid UTF-8")
            return number, None
        record = line[:-1] if line.endswith("\r") else line
        if '"' not in record and "\r" not in record:
            if not record or record.isspace():
                structure.blank_lines += 1
                return number, None
            structure.read += 1
            return number, self._checked(number, record, record.split(","), None)
        # A record with quotes (or a bare carriage return): gather the lines a quoted field spans (an odd
        # count of quotes is an open field), then let the csv module judge it.
        first = number
        parts, quotes = [line], line.count('"')
        while quotes % 2 and len(parts) < MAX_RECORD_LINES:
            following = self.lines.next_line()
            if following is None:
                break
            if following[0] is None:
                self.lines.push_back([following])
                break
            parts.append(following[0])
            quotes += following[0].count('"')
        structure.read += 1
        if quotes % 2:
            # The quote never closes: only the first line is rejected; the lines after it are read again.
            self.lines.push_back([(part, part) for part in parts[1:]])
            self.reject(first, line, "unbalanced quotes")
            return number, None
        number += len(parts) - 1
        record = "\n".join(parts)
        record = record[:-1] if record.endswith("\r") else record
        try:
            fields = next(csv.reader(io.StringIO(record), strict=True))
        except (csv.Error, StopIteration) as exc:
            self.reject(first, record, f"unparseable CSV ({exc})")
            return number, None
        # The fields go in canonical quoting, so that COPY reads exactly the fields the csv module read.
        canonical = io.StringIO()
        csv.writer(canonical, **_QUOTE_ALL).writerow(fields)
        return number, self._checked(first, record, fields, canonical.getvalue()[:-1])

    def _checked(self, number: int, record: str, fields: Sequence[str], canonical: str | None) -> str | None:
        """The COPY line for a record (``canonical``: its fields re-quoted; None: the record is a plain line),
        or None when it is rejected."""
        layout = self.layout
        if len(fields) != layout.width:
            self.reject(number, record, f"expected {layout.width} fields, got {len(fields)}")
        elif "\x00" in record:
            self.reject(number, record, "contains a NUL byte")
        elif reason := self._typed_whitespace(record, fields):
            self.reject(number, record, reason)
        elif layout.typed_form:
            self._check_shapes(number, fields, canonical or record)
            return f"{canonical or record}{layout.suffix}\n"
        elif canonical is None:
            return f"{number},,{record}\n"
        else:  # the raw record rides along (quoted) for the quarantine
            return f"{number},{_quote(record)},{canonical}\n"
        return None

    def _check_shapes(self, number: int, fields: Sequence[str], line: str) -> None:
        if line == "\\.":  # alone on a line, it would end COPY's input
            raise OffShape(f"line {number} is \\.")
        for name, pattern, field in zip(self.structure.header, self.layout.field_patterns, fields, strict=True):
            if not pattern.fullmatch(field):
                raise OffShape(f"line {number}: {name} {field[:60]!r}")

    def _typed_whitespace(self, record: str, fields: Sequence[str]) -> str | None:
        if not any(mark in record for mark in _TYPED_FIELD_WHITESPACE):
            return None
        for position in sorted(self.layout.typed):
            if any(mark in fields[position] for mark in _TYPED_FIELD_WHITESPACE):
                return f"{self.structure.header[position]}: contains a line break or tab ({fields[position]!r})"
        return None


def batched(texts: Iterable[str], size: int = 1 << 20) -> Iterator[bytes]:
    """Texts joined into chunks of about ``size`` characters: fewer calls between the parser and COPY."""
    batch: list[str] = []
    length = 0
    for text in texts:
        batch.append(text)
        length += len(text)
        if length >= size:
            yield "".join(batch).encode()
            batch, length = [], 0
    if batch:
        yield "".join(batch).encode()
