"""The README's pictures of the Airflow UI, taken after ``make demo`` from the running platform.

python -m local_platform.screenshots      (make screenshots) writes docs/ui-dags.png and docs/ui-csv-lake-grid.png,
                                          and copies the demo's last toll revenue chart to docs/chart-toll-revenue.png
"""

from __future__ import annotations

import shutil
import sys

from deploy.pipelines import names
from local_platform.browser import headless_chromium
from local_platform.platform import LocalPlatform
from local_platform.settings import PROJECT_ROOT
from local_platform.ui_pages import open_page, screenshot

DOCS = PROJECT_ROOT / "docs"
# The chart the README shows: toll_plaza's revenue per booth per day, as the demo downloaded it (see demo/report.py).
README_CHART = "revenue_per_booth.png"


def copy_readme_chart(platform: LocalPlatform) -> str:
    charts = sorted((platform.state_dir / "demo" / "charts").rglob(README_CHART))
    if not charts:
        raise SystemExit(f"no {README_CHART} under {platform.state_dir / 'demo'}: run `make demo` first")
    target = DOCS / "chart-toll-revenue.png"
    shutil.copyfile(charts[-1], target)
    return str(target)


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
    print(copy_readme_chart(platform))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
