"""The crawler's pure parts: format sniffing, type inference, exclusion globs and the folder-to-table layout."""

import gzip
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from local_platform.aws.compute.glue_crawlers.catalog import combine_schemas
from local_platform.aws.compute.glue_crawlers.layout import (
    TablePlan,
    is_data_object,
    is_excluded,
    plan_tables,
)
from local_platform.aws.compute.schema_inference import (
    SAMPLE_BYTES,
    CsvLayout,
    SchemaError,
    classify,
    infer_csv_columns,
    infer_file_schema,
    infer_folder_schemas,
    infer_json_columns,
    infer_parquet_columns,
    needs_whole_object,
    render_columns,
    sniff_csv,
)


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_csv_header_names_are_lower_cased_and_cells_typed_as_glue_types():
    text = (
        "Id,Name,Amount,Day,Seen_At,Active\n"
        "1,anna,2.5,2024-01-01,2024-01-01 10:00:00,true\n"
        "2,bob,,2024-01-02,2024-01-02 11:30:00.250,FALSE\n"
    )
    assert infer_csv_columns(text) == [
        ("id", "bigint"),
        ("name", "string"),
        ("amount", "double"),
        ("day", "date"),
        ("seen_at", "timestamp"),
        ("active", "boolean"),
    ]


def test_csv_column_mixing_integers_and_decimals_is_double_and_mixing_text_is_string():
    assert infer_csv_columns("a,b,c\n1,1,x\n2.5,y,3\n") == [("a", "double"), ("b", "string"), ("c", "string")]


def test_csv_of_only_strings_has_no_header_as_glue_decides():
    # Glue's rule: a header must differ from the data, which needs a non-string column somewhere.
    assert infer_csv_columns("city,country\nHanoi,VN\nParis,FR\n") == [("col0", "string"), ("col1", "string")]


def test_csv_starting_with_numbers_has_no_header():
    assert infer_csv_columns("1,2\n3,4\n") == [("col0", "bigint"), ("col1", "bigint")]


def test_header_only_csv_keeps_its_names():
    assert infer_csv_columns("plaza_id,amount\n") == [("plaza_id", "string"), ("amount", "string")]


@pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
def test_csv_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["id", "note"]) + "\n" + delimiter.join(["1", "a,b" if delimiter != "," else "ab"]) + "\n"
    assert sniff_csv(text) == CsvLayout(delimiter=delimiter, has_header=True, quoted=False)
    assert infer_csv_columns(text) == [("id", "bigint"), ("note", "string")]


def test_quoted_csv_is_detected():
    layout = sniff_csv('"id","city"\n"1","Ha Noi, VN"\n')
    assert layout == CsvLayout(",", True, True)
    assert infer_csv_columns('"id","city"\n"1","Ha Noi, VN"\n') == [("id", "bigint"), ("city", "string")]


def test_iso_timestamp_with_t_or_zone_stays_string_as_hive_cannot_read_it():
    assert infer_csv_columns("id,at\n1,2024-01-01T10:00:00Z\n") == [("id", "bigint"), ("at", "string")]


def test_json_lines_keys_in_first_appearance_order_with_nested_types_merged():
    text = '{"Id": 1, "tags": ["a"], "pos": {"lat": 1.5}}\n\n{"Id": 2, "pos": {"lng": 2}, "ok": true, "gone": null}\n'
    assert infer_json_columns(text) == [
        ("id", "bigint"),
        ("tags", "array<string>"),
        ("pos", "struct<lat:double,lng:bigint>"),
        ("ok", "boolean"),
        ("gone", "string"),
    ]


def test_json_integer_then_decimal_widens_to_double():
    assert infer_json_columns('{"v": 1}\n{"v": 2.5}\n') == [("v", "double")]


def test_json_document_array_of_objects_is_read_as_records():
    assert infer_json_columns('[{"a": 1}, {"b": "x"}]') == [("a", "bigint"), ("b", "string")]


def test_malformed_json_line_names_file_and_line():
    with pytest.raises(SchemaError, match=r"s3://b/k.json: line 2 is not valid JSON"):
        infer_json_columns('{"a": 1}\n{"a": \n', "s3://b/k.json")


def test_json_line_that_is_not_an_object_is_rejected():
    with pytest.raises(SchemaError, match="line 2 is not a JSON object"):
        infer_json_columns('{"a": 1}\n[1, 2]\n')


def test_parquet_types_map_to_glue_types():
    table = pa.table(
        {
            "ID": pa.array([1], pa.int64()),
            "small": pa.array([1], pa.int32()),
            "price": pa.array([1.5], pa.float64()),
            "ratio": pa.array([1.5], pa.float32()),
            "name": ["x"],
            "ok": [True],
            "day": pa.array([0], pa.date32()),
            "at": pa.array([0], pa.timestamp("us")),
            "amount": pa.array([None], pa.decimal128(12, 2)),
            "tags": [["a"]],
            "pos": pa.array([{"lat": 1.0}], pa.struct([("lat", pa.float64())])),
            "attrs": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())),
        }
    )
    assert infer_parquet_columns(parquet_bytes(table)) == [
        ("id", "bigint"),
        ("small", "int"),
        ("price", "double"),
        ("ratio", "float"),
        ("name", "string"),
        ("ok", "boolean"),
        ("day", "date"),
        ("at", "timestamp"),
        ("amount", "decimal(12,2)"),
        ("tags", "array<string>"),
        ("pos", "struct<lat:double>"),
        ("attrs", "map<string,bigint>"),
    ]


def test_truncated_parquet_is_rejected_with_its_key():
    data = parquet_bytes(pa.table({"a": [1, 2, 3]}))
    with pytest.raises(SchemaError, match="s3://b/part.parquet: not a readable Parquet file"):
        infer_file_schema("s3://b/part.parquet", data[: len(data) // 2])


def test_format_is_classified_from_content_then_extension():
    assert classify("data/x", b"PAR1....") == "parquet"
    assert classify("data/x", b'  {"a": 1}') == "json"
    assert classify("data/x.jsonl", b"not json") == "json"
    assert classify("data/x", b"a,b\n1,2") == "csv"


def test_gzip_csv_is_read_and_reported_compressed():
    schema = infer_file_schema("k.csv.gz", gzip.compress(b"id,v\n1,2.5\n2,3\n"))
    assert (schema.classification, schema.compression, schema.record_count) == ("csv", "gzip", 2)


def test_files_of_one_folder_merge_by_column_name():
    first = infer_file_schema("a.csv", b"id,amount\n1,2\n")
    second = infer_file_schema("b.csv", b"id,amount,note\n3,4.5,x\n")
    combined = combine_schemas("s3://b/t/", [first, second])
    assert combined.columns == [("id", "bigint"), ("amount", "double"), ("note", "string")]
    assert combined.record_count == 2


def test_mixed_formats_in_one_folder_are_an_error():
    with pytest.raises(SchemaError, match=r"s3://b/t/: mixed data formats in one folder \(csv, json\)"):
        combine_schemas(
            "s3://b/t/", [infer_file_schema("a.csv", b"id\n1\n"), infer_file_schema("b.json", b'{"id": 1}')]
        )


@pytest.mark.parametrize(
    ("key", "patterns", "excluded"),
    [
        ("archive/2023.csv", ["archive/**"], True),
        ("a/b.txt", ["*.txt"], False),  # * does not cross folders
        ("b.txt", ["*.txt"], True),
        ("a/b.txt", ["**.txt"], True),
        ("a/b.csv", ["**.{txt,tmp}"], False),
        ("a/b.tmp", ["**.{txt,tmp}"], True),
        ("x1.csv", ["x[!0-9].csv"], False),
        ("xa.csv", ["x[!0-9].csv"], True),
    ],
)
def test_exclusion_globs_follow_glue_semantics(key, patterns, excluded):
    assert is_excluded(key, patterns) is excluded


def test_hidden_and_empty_objects_are_not_data():
    assert not is_data_object("orders/_SUCCESS", 10)
    assert not is_data_object("orders/.part-0.crc", 10)
    assert not is_data_object("orders/_temporary/0/part", 10)
    assert not is_data_object("orders/empty.csv", 0)
    assert is_data_object("orders/part-0.csv", 10)


def test_layout_one_table_per_folder_with_hive_partitions_and_prefix():
    plans = plan_tables(
        "lake",
        "raw",
        [
            "raw/toll-events/a.csv",
            "raw/sales/dt=2024-01-01/region=eu/p.parquet",
            "raw/sales/dt=2024-01-02/region=us%2Feast/p.parquet",
            "raw/top.csv",
        ],
        table_prefix="Raw_",
    )
    assert {plan.name: plan.location for plan in plans} == {
        "raw_raw": "s3://lake/raw/",
        "raw_sales": "s3://lake/raw/sales/",
        "raw_toll_events": "s3://lake/raw/toll-events/",
    }
    sales = next(plan for plan in plans if plan.name == "raw_sales")
    assert sales.partition_keys == ["dt", "region"]
    assert sales.partitions == {
        ("2024-01-01", "eu"): "s3://lake/raw/sales/dt=2024-01-01/region=eu/",
        ("2024-01-02", "us/east"): "s3://lake/raw/sales/dt=2024-01-02/region=us%2Feast/",
    }


def test_same_folder_name_twice_keeps_shallowest_and_suffixes_the_other():
    names = sorted(plan.name for plan in plan_tables("lake", "", ["sales/a.csv", "old/sales/b.csv"]))
    assert names[0] == "sales" and names[1].startswith("sales_") and len(names[1]) == len("sales_") + 8


def test_table_level_configuration_makes_plain_subfolders_partitions():
    [plan] = plan_tables("lake", "", ["events/2024/01/a.json", "events/2024/02/b.json"], table_level=2)
    assert plan == TablePlan(
        name="events",
        location="s3://lake/events/",
        partition_keys=["partition_0", "partition_1"],
        files={"events/2024/01/a.json": ("2024", "01"), "events/2024/02/b.json": ("2024", "02")},
        partitions={("2024", "01"): "s3://lake/events/2024/01/", ("2024", "02"): "s3://lake/events/2024/02/"},
    )


def test_files_beside_partition_folders_are_an_error():
    with pytest.raises(SchemaError, match="inconsistent partition folders"):
        plan_tables("lake", "", ["sales/dt=1/a.csv", "sales/b.csv"])


def test_all_text_extract_beside_typed_files_keeps_the_folder_header():
    typed = b"RECORDED_DATE,CLOSE_PRICE\n15/11/2023,1122.5\n"
    no_results = "RECORDED_DATE,CLOSE_PRICE\nKHÔNG CÓ KẾT QUẢ PHÙ HỢP,KHÔNG CÓ KẾT QUẢ PHÙ HỢP\n".encode()

    schemas = infer_folder_schemas([("a.csv", typed, len(typed)), ("b.csv", no_results, len(no_results))]).schemas

    assert [s.columns for s in schemas.values()] == [
        [("recorded_date", "string"), ("close_price", "double")],
        [("recorded_date", "string"), ("close_price", "string")],
    ]
    assert [s.record_count for s in schemas.values()] == [1, 1]


def test_a_folder_skips_the_objects_no_classifier_can_read_and_says_why():
    good, bad, torn = b'{"id": 1}\n', b'{"id": 2}\n{"id": \n', b"\x1f\x8b not really gzip"

    inference = infer_folder_schemas([("a.json", good, len(good)), ("b.json", bad, len(bad)), ("c.gz", torn, 20)])

    assert list(inference.schemas) == ["a.json"]
    assert inference.unreadable["b.json"].startswith("b.json: line 2 is not valid JSON")
    assert inference.unreadable["c.gz"].startswith("c.gz: corrupt gzip data")


def test_non_utf8_bytes_in_a_csv_make_their_column_a_string():
    data = "id,name,amount\n1,Caf\xe9,2.5\n".encode("latin-1")

    schema = infer_file_schema("k.csv", data)

    assert render_columns(schema.columns) == [("id", "bigint"), ("name", "string"), ("amount", "double")]


def test_a_bom_only_file_has_no_columns_and_no_records():
    schema = infer_file_schema("k.csv", b"\xef\xbb\xbf")

    assert (schema.columns, schema.record_count) == ([], 0)


def test_large_text_is_inferred_from_its_first_mebibyte_and_count_extrapolated():
    row = b"1,2.5\n"
    total = 2 * SAMPLE_BYTES
    head = (b"id,amount\n" + row * (total // len(row)))[:SAMPLE_BYTES]
    late_text_row = b"x,not-a-number\n"  # beyond the sample, as on AWS it does not change the types

    schema = infer_file_schema("big.csv", head + late_text_row, size=total)

    assert render_columns(schema.columns) == [("id", "bigint"), ("amount", "double")]
    assert abs(schema.record_count - total // len(row)) / (total // len(row)) < 0.01


def test_parquet_and_gzip_need_the_whole_object():
    assert needs_whole_object("x.parquet", b"PAR1\x15")
    assert needs_whole_object("x.csv.gz", gzip.compress(b"a,b\n"))
    assert not needs_whole_object("x.csv", b"a,b\n1,2\n")
