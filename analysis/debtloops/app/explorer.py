"""``debtloops explore``: a live explorer of one sale, served by Panel on Bokeh at 127.0.0.1.

Sliders and switches set the sale (holder, size, start, duration), the policy levers and the main
uncertain parameters; their ranges are the parameter table's. When a slider is released (Panel's
``value_throttled``) or a switch flips, :class:`debtloops.app.session.ExplorerSession` runs the
settings afresh in Simlin, and the headlines, the charts and the scenario TOML are replaced in one
batch. Loop dominance (Simlin's Loops That Matter over the inventory's named loops, about 0.15 s)
follows on the next tick, so that it never delays the numbers. Each browser tab has its own session.

This module serves the tabs. Each tab is a :class:`~debtloops.app.tab.ExplorerApp`: its widgets
and page are built in :mod:`debtloops.app.widgets` (styled by :mod:`debtloops.app.assets`), what
they do is in :mod:`debtloops.app.tab`, the HTML it writes in :mod:`debtloops.app.fragments`, and
its CSV and image exports in :mod:`debtloops.app.export`.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
from collections.abc import Mapping
from functools import cache, partial
from pathlib import Path

import panel as pn
from bokeh.models import CustomJS
from bokeh.settings import settings as bokeh_settings

from debtloops.app.assets import ACCESSIBLE_SLIDERS_JS
from debtloops.app.export import chart_file, results_frame
from debtloops.app.fragments import dominance_html, headline_html, why_html
from debtloops.app.session import DEFAULT_BASE, base_scenarios
from debtloops.app.tab import CURRENT, MILLISECONDS, ExplorerApp
from debtloops.app.widgets import MAX_PINS, TITLE
from debtloops.errors import InputError, unknown_name

__all__ = [
    "ALLOW_ORIGIN_VARIABLE",
    "CURRENT",
    "DEFAULT_PORT",
    "LOCALHOST",
    "MAX_PINS",
    "MILLISECONDS",
    "SESSION_CHECK",
    "SESSION_LIFETIME",
    "ExplorerApp",
    "chart_file",
    "dominance_html",
    "headline_html",
    "page_query",
    "results_frame",
    "serve",
    "websocket_origins",
    "why_html",
]

#: The interface the explorer listens on unless ``--address`` names another: it is a local tool,
#: not a public service (docs/howto/explorer.md, Serving the explorer to colleagues).
LOCALHOST = "127.0.0.1"
DEFAULT_PORT = 5006
#: Addresses that listen on every interface: no one host for the pages to come from.
ANY_ADDRESS = ("0.0.0.0", "::")
#: The environment variable that adds hosts (``host[:port]``, comma-separated) to those whose pages
#: may open the explorer's websocket; the explorer's own two addresses always stay. It is Bokeh's
#: own name, which would otherwise replace the list.
ALLOW_ORIGIN_VARIABLE = "BOKEH_ALLOW_WS_ORIGIN"
#: Query keys Bokeh itself adds to a page's address; they are not settings.
BOKEH_KEY_PREFIX = "bokeh-"
#: How long a tab's session outlives its last connection before the server ends it [ms]: Bokeh's
#: default, so that a slow page still opens its websocket in time.
SESSION_LIFETIME = 15_000
#: How often the server looks for sessions to end [ms] (Bokeh checks every 17 s by default).
SESSION_CHECK = 2_000


def _end_tab(app: ExplorerApp, session_context) -> None:
    """Free a closed tab: release what it holds, then hand the freed memory back to the system."""
    app.close()
    gc.collect()  # the tab's widgets, documents and callbacks refer to each other in cycles
    _trim_heap()


@cache
def _malloc_trim():
    """Return glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def _trim_heap() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``); elsewhere nothing.

    Without it the pages a tab's runs used stay with the process, and its resident size keeps the
    high-water mark of the tabs open at once.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def page_query(arguments: Mapping[str, list[bytes]]) -> dict[str, str]:
    """Return a page's query as text, the last value of each key, leaving out Bokeh's own keys."""
    return {
        key: values[-1].decode("utf-8", "replace")
        for key, values in arguments.items()
        if values and not key.startswith(BOKEH_KEY_PREFIX)
    }


def websocket_origins(
    port: int, environ: Mapping[str, str] = os.environ, address: str = LOCALHOST
) -> list[str]:
    """Return the hosts whose pages may open the explorer's websocket.

    Parameters
    ----------
    port : int
        The port the explorer listens on.
    environ : mapping
        The environment; :data:`ALLOW_ORIGIN_VARIABLE` in it adds hosts.
    address : str
        The interface listened on; a specific one (not ``0.0.0.0`` or ``::``) is added as
        ``ADDRESS:PORT``, the address colleagues' pages come from.

    Returns
    -------
    list of str
        ``127.0.0.1:PORT`` and ``localhost:PORT``, the address's, then each host of
        :data:`ALLOW_ORIGIN_VARIABLE` (e.g. ``localhost:8080,devbox:5006``, for a page reached
        through a tunnel or proxy), lower-cased, once each.
    """
    local = [f"{LOCALHOST}:{port}", f"localhost:{port}"]
    if address not in ANY_ADDRESS:
        local.append(f"[{address}]:{port}" if ":" in address else f"{address}:{port}")
    added = [host.strip().lower() for host in environ.get(ALLOW_ORIGIN_VARIABLE, "").split(",")]
    return list(dict.fromkeys([*local, *(host for host in added if host)]))


def serve(
    port: int = DEFAULT_PORT,
    base: str = DEFAULT_BASE,
    show: bool = False,
    cbo: str | Path | None = None,
    address: str = LOCALHOST,
) -> None:
    """Serve the explorer at ``http://ADDRESS:PORT/`` until interrupted.

    Parameters
    ----------
    port : int
        The TCP port, 1 to 65535; the websocket accepts only pages served from it, and from the
        hosts that ``BOKEH_ALLOW_WS_ORIGIN`` adds (see :func:`websocket_origins`).
    base : str
        The shipped scenario each new tab opens on.
    show : bool
        Open the page in the default browser.
    cbo : str or Path, optional
        The CBO vintage of every run and of the baseline they are compared with (``--cbo``).
    address : str
        The interface to listen on: 127.0.0.1 (this machine only) by default; another address
        serves colleagues on its network, with no login (docs/howto/explorer.md, "Serving the
        explorer to colleagues").
    """
    if base not in base_scenarios():
        raise unknown_name("scenario", base, base_scenarios())
    pn.extension(inline=True)

    origins = websocket_origins(port, address=address)
    # Bokeh reads BOKEH_ALLOW_WS_ORIGIN at each connection and lets it replace the list; a value set
    # here comes first, so the list it reads is this one, the variable's hosts included.
    bokeh_settings.allowed_ws_origin.set_value(origins)

    def page() -> pn.template.BaseTemplate:  # Panel calls a plain function once per tab
        app = ExplorerApp(base, page_query(pn.state.session_args), cbo)
        pn.state.on_session_destroyed(partial(_end_tab, app))
        document = pn.state.curdoc
        if document is None:  # Panel calls page() within a session, which has its document
            raise RuntimeError("the explorer's page was built outside a Bokeh session")
        document.js_on_event("document_ready", CustomJS(code=ACCESSIBLE_SLIDERS_JS))
        return app.layout()

    try:
        server = pn.serve(
            {"/": page},
            port=port,
            address=address,
            websocket_origin=origins,
            unused_session_lifetime_milliseconds=SESSION_LIFETIME,
            check_unused_sessions_milliseconds=SESSION_CHECK,
            show=False,
            start=False,
            title=TITLE,
            threaded=False,
            verbose=False,
        )
    except OSError as error:
        raise InputError(
            f"cannot listen on {address}:{port}: {error.strerror}; choose another --port "
            "or --address"
        ) from None
    # Panel's own SIGINT handler stops the loop as if the server had finished: put Python's back,
    # so that Ctrl-C ends the command as an interruption (exit 130).
    with contextlib.suppress(ValueError):  # only the main thread can set it
        signal.signal(signal.SIGINT, signal.default_int_handler)
    shown = f"[{address}]" if ":" in address else address
    print(f"debtloops explorer at http://{shown}:{server.port}/ (Ctrl-C to stop)", flush=True)
    server.start()  # its periodic jobs, the clean-up of closed sessions included
    if show:
        server.show("/")
    try:
        server.io_loop.start()
    finally:
        server.stop()
