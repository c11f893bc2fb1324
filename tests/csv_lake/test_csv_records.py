"""glue_io's CSV records on real PySpark: a file is read split by lines when that gives the rows Spark's whole-file
(multiLine) read gives, and whole otherwise; a record with more fields than the header keeps its surplus."""

from __future__ import annotations

import contextlib

import glue_io
import pytest
from pyspark.sql.types import StringType, StructField, StructType

pytestmark = pytest.mark.spark

HEADER = "a,b,c\n"
SPLIT_BY_LINES = {
    "plain": HEADER + "1,2,3\n4,5,6",
    "quoted delimiters and doubled quotes": HEADER + '1,"x,y",3\n"4","say ""hi""",""\n',
    "empty lines and fields": HEADER + "\n1,,3\n\n,,\n",
    "crlf": HEADER.replace("\n", "\r\n") + '1,"x,y",3\r\n\r\n4,5,6\r\n',
    "cr only": "a,b,c\r1,2,3\r4,5,6\r",
    "byte order mark": "\ufeff" + HEADER + "1,2,3\n",
    "spaces around values": HEADER + "1 , 2 ,3 \n",
    "fewer and more fields": HEADER + "1,2\n1,2,3,4\n1,2,3,4,5\n1,2,3,\n",
}
READ_WHOLE = {
    "a quoted line break": HEADER + '1,"x\ny",3\n4,5,6\n',
    "a quoted line break in the header": 'a,"b\nb",c\n1,2,3\n',
    "a stray quote before a quoted line break": HEADER + '1,x"y,"a\nb",3\n',
    "a blank line": HEADER + "1,2,3\n   \n \t \n4,5,6\n",
    "an unclosed quote": HEADER + '1,"2,3\n4,5,6\n',
    "more fields in a record across lines": HEADER + '1,"x\ny",3,4\n',
}


def whole_file_rows(spark, path: str, header: list[str]) -> list[tuple]:
    """The reference: Spark's whole-file RFC 4180 read, one column wider than the header for a surplus field."""
    schema = StructType([StructField(f"_c{i}", StringType()) for i in range(len(header) + 1)])
    options = {"header": "true", "enforceSchema": "true", "multiLine": "true", "escape": '"', "mode": "PERMISSIVE"}
    return sorted(map(tuple, spark.read.schema(schema).options(**options).csv(path).collect()), key=repr)


def records(spark, path: str) -> tuple[bool, list[tuple]]:
    with open(path, "rb") as stream:
        header = glue_io.csv_header(stream)
    frame = glue_io.read_csv_records(spark, path, header)
    assert frame.columns == [*header, glue_io.EXTRA_FIELDS]
    return glue_io.spans_lines(spark, path), sorted(map(tuple, frame.collect()), key=repr)


@contextlib.contextmanager
def small_splits(spark):
    """Every few bytes of a file its own task, as a large file is split on AWS."""
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16")
    try:
        yield
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", before)


CASES = [(name, text, False) for name, text in sorted(SPLIT_BY_LINES.items())] + [
    (name, text, True) for name, text in sorted(READ_WHOLE.items())
]


@pytest.mark.parametrize(("name", "text", "read_whole"), CASES, ids=[name for name, _, _ in CASES])
def test_a_file_is_read_by_lines_unless_a_record_spans_lines_or_a_line_is_blank_and_gives_the_same_rows(
    name, text, read_whole, spark, tmp_path
):
    path = tmp_path / "day.csv"
    path.write_bytes(text.encode())
    with small_splits(spark):
        spans, rows = records(spark, str(path))
    assert spans == read_whole
    with open(path, "rb") as stream:
        assert rows == whole_file_rows(spark, str(path), glue_io.csv_header(stream))


def test_only_the_first_line_of_a_split_file_is_its_header(spark, tmp_path):
    path = tmp_path / "day.csv"
    path.write_text(HEADER + "1,2,3\n" * 20 + HEADER + "7,8,9\n" * 20 + "a,b,c")
    with small_splits(spark):
        assert spark.read.text(str(path)).rdd.getNumPartitions() > 4
        spans, rows = records(spark, str(path))
    assert not spans
    assert rows.count(("a", "b", "c", None)) == 2 and len(rows) == 42


def test_invalid_utf8_reads_as_replacement_characters_either_way(spark, tmp_path):
    path = tmp_path / "day.csv"
    path.write_bytes(HEADER.encode() + b"1,\xff\xfe,3\n")
    spans, rows = records(spark, str(path))
    assert not spans and rows == [("1", "\ufffd\ufffd", "3", None)] == whole_file_rows(
        spark, str(path), ["a", "b", "c"]
    )


def test_surplus_fields_are_kept_and_missing_ones_read_empty(spark, tmp_path):
    path = tmp_path / "day.csv"
    path.write_text(HEADER + "1,2,3\n1,2\n1,2,3,4\n1,2,3,4,5\n")
    _, rows = records(spark, str(path))
    assert rows == [("1", "2", "3", "4"), ("1", "2", "3", "4"), ("1", "2", "3", None), ("1", "2", None, None)]
