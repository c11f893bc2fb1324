"""The Glue jobs' reports in the words every job is moving to: run_date, read, loaded, quarantined, duplicates,
quarantine_reasons ({reason: count})."""

from __future__ import annotations

# Today's per-job names for those words; once glue_io writes the shared words, this becomes {}.
CURRENT_NAMES = {
    "dt": "run_date", "written": "loaded", "duplicates_dropped": "duplicates",  # csv_lake
    "staged": "loaded",  # toll_plaza
    "input_rows": "read", "clean_rows": "loaded", "rejected_rows": "quarantined",  # vn_stock
    "reject_reasons": "quarantine_reasons",
}


def in_shared_words(report: dict) -> dict:
    return {CURRENT_NAMES.get(key, key): value for key, value in report.items()}
