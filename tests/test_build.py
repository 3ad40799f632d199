"""The .mdl is translated once and again only when it changes."""

import shutil

from debtloops.model.engine import build
from debtloops.paths import MODEL_FILE


def test_translation_is_cached_until_the_mdl_changes(tmp_path):
    mdl = tmp_path / MODEL_FILE.name
    shutil.copyfile(MODEL_FILE, mdl)
    cache = tmp_path / "build"
    first = build(mdl, cache)
    stamp = first.stat().st_mtime_ns
    assert build(mdl, cache) == first
    assert first.stat().st_mtime_ns == stamp  # reused, not translated again
    text = mdl.read_text()
    comment = (
        "Share of the debt that the Treasury aims to hold in bills (floating-rate notes included)."
    )
    assert comment in text
    mdl.write_text(text.replace(comment, "Bill share."))
    assert build(mdl, cache) == first
    assert first.stat().st_mtime_ns != stamp  # the .mdl changed, so it was translated again
    assert "Bill share." in first.read_text()
    assert sorted(p.name for p in cache.iterdir()) == [
        "treasury_dumping.fingerprint",
        "treasury_dumping.py",
    ]
