"""The README's pictures of the Airflow UI, taken after ``make demo`` from the running platform.

python -m local_platform.screenshots      (make screenshots) writes docs/ui-dags.png and docs/ui-csv-lake-grid.png
"""

from __future__ import annotations

import sys

from deploy.pipelines import names
from local_platform.browser import headless_chromium
from local_platform.platform import LocalPlatform
from local_platform.settings import PROJECT_ROOT
from local_platform.ui_pages import open_page, screenshot

DOCS = PROJECT_ROOT / "docs"


def main() -> int:
    platform = LocalPlatform()
    if platform.status()["airflow UI"] == "stopped":
        print("Airflow is not running: run `make demo` first", file=sys.stderr)
        return 2
    driver = headless_chromium()
    try:
        open_page(driver, f"{platform.ui_url}/dags", shows=list(names()))
        print(screenshot(driver, DOCS / "ui-dags.png"))
        open_page(driver, f"{platform.ui_url}/dags/csv_lake", shows=["convert_to_parquet"])
        print(screenshot(driver, DOCS / "ui-csv-lake-grid.png"))
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
