"""``debtloops export --format xmile``: pysd and Simlin read the file and run the scenario as
``debtloops run`` does; the file has a stock-and-flow diagram and names flows by identifier."""

import xml.etree.ElementTree as ET

import numpy as np
import pysd
import pytest
import simlin
from tests.conftest import assert_agree

from debtloops import cli
from debtloops.model.contract import OUTPUT_UNITS
from debtloops.model.run import execute, prepare
from debtloops.model.xmile import STEP_VARIABLE, XMILE_NS

#: Agreement asked of each reader's run of the export with ``debtloops run`` [relative].
RELATIVE = 1e-9
NS = {"x": XMILE_NS}


def _export(tmp_path, *options):
    target = tmp_path / "model.xmile"
    assert cli.main(["export", "--format", "xmile", "--out", str(target), *options]) == 0
    return target


def _pysd_run(path, times):
    # pysd 3.14 writes a graphical function's points with numpy's default print precision (8
    # decimals), which moves 0.02085109706744667 to 0.0208511; the file holds every digit, so the
    # translation is asked for numpy's shortest exact text.
    with np.printoptions(floatmode="unique"):
        model = pysd.read_xmile(str(path))
    return model.run(return_columns=list(OUTPUT_UNITS), return_timestamps=times)


#: An override given to ``export --set``, as typed and as parsed.
SET_TEXT, SET_VALUES = "portfolio_balance_sensitivity=0.6", {"portfolio_balance_sensitivity": 0.6}


@pytest.mark.parametrize(
    ("options", "scenario", "final_time", "overrides"),
    [
        ((), "baseline", None, {}),
        (("--scenario", "article", "--final-time", "2035"), "article", 2035, {}),
        (("--scenario", "japan_full", "--set", SET_TEXT), "japan_full", None, SET_VALUES),
    ],
    ids=["default-baseline", "article-2035", "japan_full-set"],
)
def test_pysd_and_simlin_run_the_export_as_debtloops_run_does(
    tmp_path, options, scenario, final_time, overrides
):
    path = _export(tmp_path, *options)
    reference = execute(prepare(scenario, overrides, final_time))
    if overrides:  # the override changes the run: the export is not the scenario's own
        plain = execute(prepare(scenario))
        assert float(abs(plain["market_yield"] - reference["market_yield"]).max()) > 1e-6
    times = reference["time"].to_numpy()
    by_pysd = _pysd_run(path, times)
    by_simlin = simlin.load(path).run(analyze_loops=False).results
    np.testing.assert_allclose(by_simlin.index.to_numpy(dtype=float), times, rtol=0, atol=1e-9)
    for name in OUTPUT_UNITS:
        assert_agree(f"pysd {name}", reference[name], by_pysd[name], RELATIVE)
        assert_agree(f"Simlin {name}", reference[name], by_simlin[name], RELATIVE)


def test_the_default_export_is_the_baseline_scenario(tmp_path):
    default = _export(tmp_path).read_bytes()
    named = _export(tmp_path, "--scenario", "baseline").read_bytes()
    assert default == named


def test_flows_are_named_by_identifier_and_dt_is_a_variable(tmp_path):
    root = ET.parse(_export(tmp_path)).getroot()
    names = {v.get("name") for v in root.find("x:model/x:variables", NS)}
    for ref in root.iterfind(".//x:stock/x:inflow", NS):
        assert ref.text in names, ref.text
    for ref in root.iterfind(".//x:stock/x:outflow", NS):
        assert ref.text in names, ref.text
    equations = [eqn.text or "" for eqn in root.iterfind(".//x:eqn", NS)]
    assert not [text for text in equations if "DT" in text.replace(STEP_VARIABLE, "").split()]
    assert any(STEP_VARIABLE in text for text in equations)
    dt = float(root.findtext("x:sim_specs/x:dt", namespaces=NS))
    step = root.find(f".//x:aux[@name='{STEP_VARIABLE}']/x:eqn", NS)
    assert float(step.text) == dt


def test_the_diagram_draws_every_variable_once_and_simlin_keeps_it(tmp_path):
    path = _export(tmp_path)
    root = ET.parse(path).getroot()
    variables = root.find("x:model/x:variables", NS)
    view = root.find("x:model/x:views/x:view", NS)
    assert view is not None and view.get("type") == "stock_flow"
    for kind in ("stock", "flow", "aux"):
        defined = sorted(v.get("name") for v in variables.findall(f"x:{kind}", NS))
        drawn = sorted(v.get("name") for v in view.findall(f"x:{kind}", NS))
        assert drawn == defined, kind
    places = [(float(e.get("x")), float(e.get("y"))) for e in view]
    assert len(set(places)) == len(places)  # no two drawn on one spot
    for flow in view.findall("x:flow", NS):
        assert len(flow.findall("x:pts/x:pt", NS)) >= 2, flow.get("name")
    # Simlin reads the diagram: its own XMILE of the loaded file draws the same stocks.
    again = ET.fromstring(simlin.load(path).project.to_xmile())
    kept = {e.get("name") for e in again.iterfind(".//x:views/x:view/x:stock", NS)}
    assert kept == {v.get("name") for v in variables.findall("x:stock", NS)}
