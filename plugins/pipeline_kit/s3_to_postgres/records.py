"""The CSV's structure, checked in one streaming pass (pure Python, no database): which lines are records, which
records are malformed and why.

Every well-formed record goes on, unchanged, to PostgreSQL's ``COPY ... (FORMAT csv)`` with its first line's
number in front; values are cast and checked there, set-wise (see ``load``). Here a record is set aside, with
its raw text and a reason, when it is not valid UTF-8, holds a NUL byte, has quotes that do not close, has the
wrong number of fields, or has a line break or tab in a typed field (PostgreSQL would read past those, changing
the value). Nothing is altered: a record's text is what the file holds; only line terminators (``\\n``,
``\\r\\n``) are not part of values. Blank lines are not records; a byte-order mark before the header is not
part of the first name.

Speed: a block of lines (one chunk of the object) with no quote, no carriage return but line ends, no NUL and
no tab, whose every line has the right number of commas, is passed on with a few C-level string operations
per line. Any other block goes line by line: a record with quotes is parsed by the ``csv`` module and passed
on in canonical quoting, so that PostgreSQL reads exactly the fields Python counted.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence

MAX_RECORD_LINES = 1000  # a quoted field may span lines; past this a quote is taken as unbalanced
_TYPED_FIELD_WHITESPACE = ("\t", "\n", "\r", "\x0b", "\x0c")
_SLOW_BLOCK_MARKS = ('"', "\x00", "\t", "\x0b", "\x0c")
_QUOTE_ALL = {"quoting": csv.QUOTE_ALL, "lineterminator": "\n"}


class HeaderError(ValueError):
    """The file's header cannot be read: no row of it can load."""


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
    """COPY (FORMAT csv) input, as text blocks of ``<line number>,<raw or empty>,<record>\\n`` lines, for the
    well-formed records of the CSV in ``chunks`` (first line: header). ``on_header(header)`` checks the header
    (raising if no row can load) and returns the field count records must have and the positions of typed
    fields. Fills ``structure`` as it goes."""
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
    width, typed_positions = on_header(structure.header)
    machine = _RecordMachine(lines, width, set(typed_positions), structure)
    rest = lines.rest_of_block()  # the lines after the header can take the fast path too
    while True:
        if lines.idle:
            block, rest = (rest, None) if rest is not None else (lines.block(), None)
            if block is None:
                return
            if isinstance(block, str) and (fast := _plain_block(block, width - 1)) is not None:
                structure.read += len(fast)
                yield "".join([f"{n},,{record}\n" for n, record in enumerate(fast, number + 1)])
                number += len(fast)
                continue
            lines.feed(block)
        number, out = machine.step(number)
        if out is not None:
            yield out


def _plain_block(block: str, commas: int) -> list[str] | None:
    """The block's lines if every one is a plain record (right comma count, nothing needing a closer look)."""
    if any(mark in block for mark in _SLOW_BLOCK_MARKS):
        return None
    if "\r" in block:
        # Windows line ends only: every line ends with \r and there is no other.
        if not block.endswith("\r") or block.count("\r") != block.count("\r\n") + 1:
            return None
        block = block[:-1].replace("\r\n", "\n")
    records = block.split("\n")
    if list(map(str.count, records, itertools.repeat(","))).count(commas) != len(records):
        return None  # a blank line or a wrong field count: line by line
    return records


class _RecordMachine:
    """Line-by-line reading of one record at a time (quotes, blank lines, rejects)."""

    def __init__(self, lines: _Lines, width: int, typed: set[int], structure: Structure):
        self.lines, self.width, self.typed, self.structure = lines, width, typed, structure

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
            return number, self._checked(number, record, record.split(","), record)
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
        # The raw record rides along (quoted) for the quarantine; the fields go in canonical quoting, so that
        # COPY reads exactly the fields the csv module read.
        canonical = io.StringIO()
        csv.writer(canonical, **_QUOTE_ALL).writerow(fields)
        return number, self._checked(first, record, fields, f"{_quote(record)},{canonical.getvalue()[:-1]}")

    def _checked(self, number: int, record: str, fields: Sequence[str], copy_text: str) -> str | None:
        if len(fields) != self.width:
            self.reject(number, record, f"expected {self.width} fields, got {len(fields)}")
        elif "\x00" in record:
            self.reject(number, record, "contains a NUL byte")
        elif reason := self._typed_whitespace(record, fields):
            self.reject(number, record, reason)
        elif copy_text is record:
            return f"{number},,{record}\n"
        else:
            return f"{number},{copy_text}\n"
        return None

    def _typed_whitespace(self, record: str, fields: Sequence[str]) -> str | None:
        if not any(mark in record for mark in _TYPED_FIELD_WHITESPACE):
            return None
        for position in sorted(self.typed):
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
