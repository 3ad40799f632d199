"""The one schema layer of the input files (debtloops/schema.py): the JSON Schemas shipped for
editors are the ones the models generate, every shipped input file fits them, and the command
line prints them."""

import json
import tomllib
from pathlib import Path
from typing import get_args

import jsonschema
import pytest

from debtloops import cli, schema
from debtloops.errors import InputError
from debtloops.model.layers import LAYERS
from debtloops.paths import PARAMETER_TABLE
from debtloops.validation.backtest import YIELD_MODES

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "analysis" / "debtloops" / "schemas"
#: The shipped input files of each kind.
FILES = {
    "scenario": sorted((ROOT / "models" / "scenarios").glob("*.toml")),
    "sweep": sorted((ROOT / "models" / "sweeps").glob("*.toml")),
    "calibration": sorted((ROOT / "models" / "calibrations").glob("*.toml")),
    "parameters": [PARAMETER_TABLE],
}


@pytest.mark.parametrize("kind", schema.MODELS)
def test_the_shipped_schema_is_the_generated_one(kind):
    shipped = SHIPPED / f"{kind}.schema.json"
    assert shipped.read_text(encoding="utf-8") == schema.schema_text(kind), (
        f"{shipped.name} is stale: write it again with `debtloops schema {kind} > {shipped}`"
    )


@pytest.mark.parametrize("kind", schema.MODELS)
def test_every_shipped_file_fits_its_schema_and_its_model(kind):
    validator = jsonschema.Draft202012Validator(schema.json_schema(kind))
    assert FILES[kind]
    for path in FILES[kind]:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert not list(validator.iter_errors(data)), path
        schema.check(schema.MODELS[kind], data, path.name)


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("scenario", {"sett": {}}, "unknown top-level key or section 'sett'; did you mean: set"),
        (
            "sweep",
            {"sampler": {"method": "lhs", "sample": 8, "seed": 1}},
            r"unknown key in \[sampler\] 'sample'; did you mean: samples",
        ),
        (
            "calibration",
            {"period": {"start": 2000, "fit_end": 2010}, "series": {}, "parameters": {"x": {}}},
            "series is empty",
        ),
        ("parameters", {"x": {"kind": "uncertain"}}, r"\[x\] is missing 'value'"),
    ],
)
def test_the_editor_and_the_reader_refuse_the_same_file(kind, data, message):
    """A file the reader refuses (with the key and the nearest choice) the schema refuses too."""
    with pytest.raises(InputError, match=rf"^f\.toml: .*{message}"):
        schema.check(schema.MODELS[kind], data, "f.toml")
    assert list(jsonschema.Draft202012Validator(schema.json_schema(kind)).iter_errors(data))


def test_schema_command_prints_each_schema(capsys):
    for kind in schema.MODELS:
        assert cli.main(["schema", kind]) == 0
        printed = capsys.readouterr().out
        assert printed == schema.schema_text(kind)
        assert json.loads(printed)["$schema"] == schema.DIALECT


def test_schema_command_refuses_an_unknown_kind_with_the_nearest(capsys):
    assert cli.main(["schema", "sweeps"]) == 2
    err = capsys.readouterr().err
    assert "unknown schema 'sweeps'; did you mean: sweep" in err
    assert "Traceback" not in err


def test_the_choices_the_schema_spells_out_are_the_projects():
    """The schema lists a scenario's data layers and the backtest's yields modes for editors."""
    assert set(get_args(schema.Layer)) == set(LAYERS)
    assert set(get_args(schema.YieldMode)) == set(YIELD_MODES)


@pytest.mark.parametrize("noise", [0.0, -1.0, "guess", True, [1.0]])
def test_a_key_of_several_types_is_named_by_its_key_not_by_a_choice(noise):
    """A noise scale is a positive number or "estimate": one message, naming the key."""
    data = {
        "period": {"start": 2000, "fit_end": 2010},
        "parameters": {"x": {}},
        "series": {"s": {"variables": ["v"], "noise": noise}},
    }
    with pytest.raises(
        InputError, match=r'^f\.toml: series\.s\.noise must be positive .* or "estimate", got '
    ):
        schema.check(schema.CalibrationFile, data, "f.toml")
