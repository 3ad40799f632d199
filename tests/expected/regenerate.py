"""Rewrite the stored expected results after a deliberate change to the model.

Run from the project root: ``python tests/expected/regenerate.py``. Review the diff of the CSV files
before committing: every changed number is a change in what the model says.
"""

import tomllib
from pathlib import Path

from debtloops import run_scenario

HERE = Path(__file__).parent


def main() -> None:
    cases = tomllib.loads((HERE / "cases.toml").read_text())
    for name, case in cases.items():
        run = run_scenario(name)
        yearly = run[case["variables"]].sel(time=run["time"][run["time"] % 1 == 0])
        yearly.to_dataframe()[case["variables"]].to_csv(HERE / f"{name}.csv", float_format="%.10g")
        print(f"wrote {name}.csv")


if __name__ == "__main__":
    main()
