"""The explorer page's own JavaScript and CSS: accessible sliders, the headline cards, the grid.

Kept apart from the widgets and callbacks (:mod:`debtloops.app.widgets`,
:mod:`debtloops.app.tab`) so that the page's look is read in one place.
"""

from __future__ import annotations

from debtloops.app import controls

#: How a slider shows its value (JavaScript): four significant figures, as
#: :func:`debtloops.app.controls.significant` writes them, never ``7e-05`` or ``0.0``.
SIGNIFICANT_JS = (
    f"return tick === 0 ? '0' : String(Number(Number(tick).toPrecision({controls.SIGNIFICANT})));"
)
#: Run once the page is ready and every second after (JavaScript): gives each slider's handle the
#: slider's title as its accessible name (and each checkbox its words, which Bokeh leaves
#: unattached, and a click on them flips it), and has a slider read its value in significant figures
#: (noUiSlider's own text rounds to two decimals, so 0.00007 was read "0.00"). Sliders drawn
#: again (another holder's range) are found on the next round.
ACCESSIBLE_SLIDERS_JS = """
const precise = (v) => {
  const n = Number(v);
  return n === 0 ? '0' : String(Number(n.toPrecision(FIGURES)));
};
const fix = (target) => {
  const slider = target.noUiSlider, handle = target.querySelector('.noUi-handle');
  if (!slider || !handle) return;
  const title = target.getRootNode().querySelector('.bk-slider-title');
  const words = title ? (title.firstChild ? title.firstChild.textContent : title.textContent) : '';
  const name = words.replace(/:\\s*$/, '').trim();
  if (name) handle.setAttribute('aria-label', name);
  if (target.dataset.debtloopsA11y) return;
  target.dataset.debtloopsA11y = '1';
  const say = () => handle.setAttribute('aria-valuetext', precise(slider.get(true)));
  slider.on('update.debtloops', say);
  say();
};
const name = (input) => {
  if (input.getAttribute('aria-label')) return;
  const root = input.getRootNode(), label = input.closest('label');
  const words = (label && label.textContent.trim()) ||
    Array.from(root.querySelectorAll('label, span, .bk-label'))
      .map((e) => e.textContent).join(' ').trim();
  if (words) input.setAttribute('aria-label', words);
  root.querySelectorAll('.bk-label').forEach((words) => {
    words.style.cursor = 'pointer';
    words.addEventListener('click', () => input.click());
  });
};
const visit = (root) => {
  root.querySelectorAll('.noUi-target').forEach(fix);
  root.querySelectorAll('input[type=checkbox]').forEach(name);
  root.querySelectorAll('*').forEach((el) => { if (el.shadowRoot) visit(el.shadowRoot); });
};
visit(document);
if (!window.debtloopsA11y) { window.debtloopsA11y = setInterval(() => visit(document), 1000); }
""".replace("FIGURES", str(controls.SIGNIFICANT))
#: A slider's value formatter (JavaScript): it also starts :data:`ACCESSIBLE_SLIDERS_JS` the
#: first time a slider draws its value, should the page's ready event have come before its script.
SLIDER_FORMAT_JS = (
    "if (!window.debtloopsA11y) { setTimeout(() => { (function () {"
    + ACCESSIBLE_SLIDERS_JS
    + "})(); }, 0); }\n"
    + SIGNIFICANT_JS
)
#: The page's viewport: the device's width at scale 1 (a phone does not draw a desktop page small).
VIEWPORT = "width=device-width, initial-scale=1"
#: The narrowest a chart is drawn before the charts wrap to another row [CSS pixels].
CHART_MIN_WIDTH = 320
#: The charts' grid: as many columns of at least :data:`CHART_MIN_WIDTH` as the width holds.
CHART_GRID = {
    "display": "grid",
    "grid-template-columns": f"repeat(auto-fill, minmax(min({CHART_MIN_WIDTH}px, 100%), 1fr))",
    "gap": "8px",
}
#: Below this page width the sidebar stands above the main area, in one column [CSS pixels].
ONE_COLUMN_BELOW = 768

#: The explorer's panes: headline cards, status lines, help, compare table and drivers.
CSS = """
.headlines { display: flex; flex-wrap: wrap; gap: 8px; font-family: sans-serif; }
.headline { border: 1px solid #ccc; border-radius: 6px; padding: 6px 10px; min-width: 150px; }
.headline .label { font-size: 11px; color: #555; }
.headline .value { font-size: 22px; font-weight: 600; }
.status { font-family: sans-serif; font-size: 12px; color: #444; }
.status.error { color: #b00020; font-weight: 600; }
.help { font-family: sans-serif; font-size: 12px; color: #444; margin-top: -6px; }
.help summary { cursor: pointer; }
.compare { font-family: sans-serif; font-size: 13px; border-collapse: collapse; width: 100%; }
.compare th, .compare td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: right; }
.compare th:first-child, .compare td:first-child { text-align: left; }
.compare-wrap { overflow-x: auto; max-width: 100%; }
.drivers { display: grid; gap: 8px; font-family: sans-serif; font-size: 13px;
  grid-template-columns: repeat(auto-fill, minmax(min(300px, 100%), 1fr)); }
.drivers .when { font-weight: 600; }
.drivers ol { margin: 4px 0; padding-left: 20px; }
"""


#: The page's own rules: one column on a narrow screen, the page then scrolling as a whole.
PAGE_CSS = f"""
@media (max-width: {ONE_COLUMN_BELOW - 0.02}px) {{
  html body, html body #container {{ height: auto !important; overflow: visible !important; }}
  html body #content {{ flex-direction: column; flex-wrap: nowrap; height: auto;
                        overflow: visible !important; }}
  html body #content > #sidebar {{ max-width: none !important; width: 100% !important;
    height: auto; overflow: visible; border-right: none;
    border-bottom: 1px solid var(--bs-border-color); }}
  html body #content > #main {{ height: auto; overflow: visible; padding: 10px; }}
}}
"""
#: Slider titles wrap rather than run out of the sidebar.
WRAP_TITLE_CSS = ".bk-slider-title { white-space: normal; }"
