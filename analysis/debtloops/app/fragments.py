"""The explorer's HTML fragments: the headline cards, the drivers, the "why" tables, an error.

Each is written into a Panel HTML pane; every text that comes from a setting, a table or an error
is escaped.
"""

from __future__ import annotations

import html

import pandas as pd

from debtloops.outputs import HEADLINE_DECIMALS, headline_table


def error_html(error: Exception) -> str:
    """Return an error as the page's alert line."""
    return f'<div class="status error" role="alert">{html.escape(str(error))}</div>'


def headline_html(outcome) -> str:
    """Return the headline panel: each column of the headline table as a labelled number.

    Each number is in an element with ``data-column`` set to the column's name in
    :func:`debtloops.outputs.headline_table` (e.g. ``peak extra yield [bp]``), formatted as
    ``debtloops run`` prints it.
    """
    row = headline_table([outcome.headline]).iloc[0]
    cells = [
        f'<div class="headline"><div class="label">{html.escape(column)}</div>'
        f'<div class="value" data-column="{html.escape(column)}">{value:,.{HEADLINE_DECIMALS}f}'
        "</div></div>"
        for column, value in row.items()
    ]
    return f'<div class="headlines">{"".join(cells)}</div>'


def dominance_html(periods) -> str:
    """Return the mechanisms that matter most in each period as headed lists.

    ``periods`` is :func:`debtloops.app.loop_words.leaders`'s result.
    """
    blocks = []
    for start, end, found in periods:
        items = (
            "".join(
                f"<li><b>{html.escape(leader.name)}</b> ({leader.share:.0%} of loop activity; "
                f"{html.escape(', '.join(leader.loops))}): {html.escape(leader.explanation)}</li>"
                for leader in found
            )
            or "<li>no loop active</li>"
        )
        blocks.append(
            f'<div class="period"><div class="when">FY{start:.0f} to FY{end:.0f}</div>'
            f"<ol>{items}</ol></div>"
        )
    return f'<div class="drivers">{"".join(blocks)}</div>'


def why_html(shares, fanned, seconds: float) -> str:
    """Return the attribution's shares and the fan's threshold probabilities as two tables.

    Parameters
    ----------
    shares : xarray.Dataset
        :func:`debtloops.attribution.attribute`'s result.
    fanned : xarray.Dataset
        :func:`debtloops.fan.fan`'s result.
    seconds : float
        The time both took [s].
    """
    from debtloops.attribution import attribution_table
    from debtloops.fan import CASES
    from debtloops.units import PERCENT

    table = attribution_table(shares)
    table = table[[c for c in table.columns if not c.startswith("standard error")]]
    table.index = [str(name).replace("_", " ") for name in table.index]  # words, not ids
    probability = (
        PERCENT
        * fanned["probability_by_year"]
        .to_dataframe()["probability_by_year"]
        .unstack("case")[list(CASES)]
    )
    probability.index = [f"debt/GDP above {PERCENT * t:g}% by {y}" for t, y in probability.index]
    probability.columns = ["these settings [%]", "baseline [%]"]

    def shown(frame: pd.DataFrame) -> str:
        return (
            '<div class="compare-wrap">'
            + frame.to_html(classes="compare", float_format=lambda x: f"{x:,.1f}", border=0)
            + "</div>"
        )

    return (
        f"<h4>Attribution: the extra over the baseline, by mechanism</h4>{shown(table)}"
        f"<h4>How likely: the fan's threshold probabilities</h4>{shown(probability)}"
        f'<div class="status">{seconds:.1f} s</div>'
    )
