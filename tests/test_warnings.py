"""Warnings are errors for debtloops' own code, and only reported for other packages'.

pytest runs in a subprocess, with the project's own configuration (pyproject.toml), on a small
test module whose tests each raise one warning attributed to a given module.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (test name, module the warning is attributed to, category, whether the test must fail)
CASES = [
    ("ours_deprecated", "debtloops.model.run", "DeprecationWarning", True),
    ("ours_future", "debtloops", "FutureWarning", True),
    ("ours_user", "debtloops.sweeps.execute", "UserWarning", True),
    ("theirs_deprecated", "somepackage.core", "DeprecationWarning", False),
    ("theirs_future", "somepackage", "FutureWarning", False),
]

TEST = """
def test_{name}():
    warnings.warn_explicit("{name} warns", {category}, "{module}.py", 1, module="{module}")
"""


def test_a_warning_from_debtloops_fails_and_one_from_another_package_is_reported(tmp_path):
    case = tmp_path / "test_case.py"
    case.write_text(
        "import warnings\n"
        + "".join(TEST.format(name=n, module=m, category=c) for n, m, c, _ in CASES)
    )
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml")),
            *("--rootdir", str(tmp_path), "-p", "no:cacheprovider", "-rA", str(case)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout  # some failed
    for name, _, category, fails in CASES:
        outcome = "FAILED" if fails else "PASSED"
        pattern = rf"^{outcome} \S*test_case\.py::test_{name}\b"
        assert re.search(pattern, result.stdout, re.MULTILINE), (name, result.stdout)
        if not fails:  # in the warnings summary
            assert f"{category}: {name} warns" in result.stdout, result.stdout
