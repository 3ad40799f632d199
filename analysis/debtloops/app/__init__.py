"""The web front ends: a live explorer (``debtloops explore``) and an offline HTML report.

The web libraries (Panel, Bokeh, Playwright for the browser tests) are the optional extra
``debtloops[app]``; only :mod:`debtloops.app.session` works without them.
"""
