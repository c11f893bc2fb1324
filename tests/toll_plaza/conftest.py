"""Make the generator Lambda importable by its module name, as the Lambda runtime imports it."""

import sys
from pathlib import Path

GENERATOR_DIR = Path(__file__).resolve().parents[2] / "include" / "lambda" / "toll_generator"
SEED_FILE = (
    Path(__file__).resolve().parents[2]
    / "local_platform"
    / "seed_data"
    / "toll_plaza"
    / "sample_data_toll_application.json"
)

if str(GENERATOR_DIR) not in sys.path:
    sys.path.insert(0, str(GENERATOR_DIR))
