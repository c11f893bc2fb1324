"""Realistic billing CSV files for the csv_lake pipeline (the original's file was never published).

The original lands files such as ``billing_data_meat_may_2023.csv``: one line per invoice line of a
meat wholesaler. This generator writes the same kind of file, deterministic for a given seed, with
optional defects real deliveries have: rows that cannot be cast, exact duplicate lines, and headers
exported by a spreadsheet (spaces, capitals, camelCase, a byte-order mark).

    python -m local_platform.generators.billing_csv --rows 1000 --seed 7 --out billing.csv [--bad-rows 10]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import random
import sys
from datetime import date, timedelta
from pathlib import Path

COLUMNS = (
    "invoice_id",
    "invoice_date",
    "customer_id",
    "customer_name",
    "product_code",
    "product_description",
    "category",
    "quantity_kg",
    "unit_price",
    "currency",
    "vat_rate",
    "line_total",
    "payment_status",
    "due_date",
)
# What a spreadsheet export makes of the same columns; each normalises back to the snake_case name.
MESSY_HEADERS = (
    "\ufeffInvoice ID",
    " InvoiceDate",
    "Customer-Id",
    "CUSTOMER NAME",
    "Product Code ",
    "productDescription",
    "Category",
    "Quantity (kg)",
    "Unit Price",
    "Currency",
    "VATRate",
    "LineTotal",
    "Payment  Status",
    "Due Date",
)

PRODUCTS = (
    ("BEEF-RIB", "Beef ribeye", "beef", 24.50),
    ("BEEF-SIR", "Beef sirloin", "beef", 21.90),
    ("BEEF-MIN", "Beef mince 15% fat", "beef", 7.80),
    ("BEEF-BRI", "Beef brisket", "beef", 11.40),
    ("PORK-BEL", "Pork belly", "pork", 8.95),
    ("PORK-LOI", "Pork loin", "pork", 9.60),
    ("PORK-SAU", "Pork sausages, Cumberland", "pork", 6.70),
    ("LAMB-LEG", "Lamb leg, bone in", "lamb", 13.20),
    ("LAMB-SHO", "Lamb shoulder", "lamb", 11.75),
    ("LAMB-CHP", "Lamb chops", "lamb", 16.40),
    ("CHKN-BRE", "Chicken breast fillet", "poultry", 8.30),
    ("CHKN-THI", "Chicken thigh, boneless", "poultry", 6.90),
    ("CHKN-WHL", "Whole chicken", "poultry", 4.10),
    ("TRKY-BRE", "Turkey breast", "poultry", 10.50),
    ("DUCK-BRE", "Duck breast", "poultry", 18.60),
)
CUSTOMERS = (
    "The Red Lion",
    "Harbour Fish & Grill",
    "Bistro Margaux",
    "Green Lane Butchers",
    "St. Mary's School Kitchen",
    "Mumbai Spice House",
    "The Old Bakery Cafe",
    "Riverside Hotel",
    "Pho Saigon",
    "Casa Romero",
    "Northfield Care Home",
    "Kings Arms, Islington",
    "Burger Yard",
    "Hakkasan Express",
    "The Farmer's Table",
)
PAYMENT_STATUSES = ("paid", "paid", "paid", "unpaid", "overdue")
VAT_RATE = "0.000"  # UK VAT on unprocessed meat is zero-rated; a few prepared lines carry 20 %.
PREPARED_VAT_RATE = "0.200"
PREPARED = {"PORK-SAU", "BEEF-MIN"}

# One realistic defect per bad row, taken in turn: (column, value as delivered).
DEFECTS = (
    ("quantity_kg", "n/a"),
    ("unit_price", "12,50"),  # decimal comma from a European spreadsheet
    ("invoice_date", "31/05/2023"),  # day-first date
    ("vat_rate", "20%"),
    ("line_total", "£45.00"),
    ("invoice_id", ""),  # required value missing
)


@dataclasses.dataclass(frozen=True)
class BillingFile:
    """A generated file and the facts a test needs about it."""

    text: str
    rows: int  # data lines written, including bad rows and duplicates
    good_rows: int  # distinct rows that cast cleanly
    bad_rows: int
    duplicates: int

    def encode(self) -> bytes:
        return self.text.encode("utf-8")


def _line(rng: random.Random, number: int, day: date, customer_ids: list[str]) -> list[str]:
    code, description, category, base_price = rng.choice(PRODUCTS)
    customer = rng.randrange(len(CUSTOMERS))
    quantity = round(rng.uniform(0.5, 60.0), 3)
    price = round(base_price * rng.uniform(0.92, 1.08), 2)
    vat = PREPARED_VAT_RATE if code in PREPARED else VAT_RATE
    total = round(quantity * price * (1 + float(vat)), 2)
    return [
        f"INV-{day:%Y%m%d}-{number:07d}",
        day.isoformat(),
        customer_ids[customer],
        CUSTOMERS[customer],
        f"{code}-{rng.randint(1, 3):02d}",
        description,
        category,
        f"{quantity:.3f}",
        f"{price:.2f}",
        "GBP",
        vat,
        f"{total:.2f}",
        rng.choice(PAYMENT_STATUSES),
        (day + timedelta(days=30)).isoformat(),
    ]


def generate(
    rows: int,
    seed: int = 0,
    day: date = date(2023, 5, 31),
    bad_rows: int = 0,
    duplicates: int = 0,
    messy_headers: bool = False,
) -> BillingFile:
    """A billing CSV of ``rows`` data lines for ``day``, of which ``bad_rows`` carry one defect each and
    ``duplicates`` repeat an earlier line exactly. Deterministic for a given seed."""
    if bad_rows + duplicates > rows:
        raise ValueError("bad_rows + duplicates cannot exceed rows")
    rng = random.Random(seed)
    customer_ids = [f"C{rng.randint(10000, 99999)}" for _ in CUSTOMERS]
    distinct = rows - duplicates
    lines = [_line(rng, number, day, customer_ids) for number in range(1, distinct + 1)]
    for index, position in enumerate(rng.sample(range(distinct), bad_rows)):
        column, value = DEFECTS[index % len(DEFECTS)]
        lines[position][COLUMNS.index(column)] = value
    for _ in range(duplicates):
        lines.insert(rng.randrange(len(lines) + 1), list(rng.choice(lines[:distinct])))

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MESSY_HEADERS if messy_headers else COLUMNS)
    writer.writerows(lines)
    return BillingFile(
        buffer.getvalue(), rows=rows, good_rows=distinct - bad_rows, bad_rows=bad_rows, duplicates=duplicates
    )


def header_only(messy_headers: bool = False) -> BillingFile:
    """What an export with no invoice lines looks like: the header line and nothing else."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(MESSY_HEADERS if messy_headers else COLUMNS)
    return BillingFile(buffer.getvalue(), rows=0, good_rows=0, bad_rows=0, duplicates=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2023, 5, 31))
    parser.add_argument("--bad-rows", type=int, default=0)
    parser.add_argument("--duplicates", type=int, default=0)
    parser.add_argument("--messy-headers", action="store_true")
    parser.add_argument("--out", type=Path, help="default: standard output")
    args = parser.parse_args(argv)
    generated = generate(args.rows, args.seed, args.day, args.bad_rows, args.duplicates, args.messy_headers)
    if args.out:
        args.out.write_text(generated.text, encoding="utf-8")
    else:
        sys.stdout.write(generated.text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
