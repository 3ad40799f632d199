"""Where the project's model files live."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = PROJECT_ROOT / "models"
MODEL_FILE = MODELS_DIR / "treasury_dumping.mdl"
PARAMETER_TABLE = MODELS_DIR / "parameters.toml"
SCENARIO_DIR = MODELS_DIR / "scenarios"
BUILD_DIR = MODELS_DIR / ".build"
DATA_DIR = MODELS_DIR / "data"
