"""Write the foreign holders' equations into the .mdl from one template and the holder list.

``models/holder_template.mdl`` holds two Vensim groups, and ``treasury_dumping.mdl`` holds groups of
the same names, which :func:`generate` replaces (a group runs from its ``****`` line to the next):

- :data:`EACH_HOLDER`, written once for each holder of ``models/holders.toml``, in the list's order,
  with ``$holder`` its name in the .mdl (``united kingdom``), ``$name`` its name in words, ``$tic``
  its TIC row, ``$extra_sales`` its sales written by hand (`` + japan intervention sales``, or
  nothing) and ``$value`` the value ``models/parameters.toml`` gives the constant it defines;
- :data:`SUMS`, written once, in which the text between ``[[`` and ``]]`` is written once for each
  holder (``[[$holder sales + ]]`` gives ``japan sales + china sales + ``).

The sums are written out term by term, not as new variables, so the model's variables and loops are
those of the equations written by hand. pysd and Simlin read group lines and ignore them. pysd's
translation is cached by the .mdl's hash, and the .mdl is what this writes, so a new holder is a new
translation. Run it as ``make holders`` (``python -m debtloops.model.holder_blocks``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template

from debtloops.errors import InputError
from debtloops.model.holders import Holder
from debtloops.model.holders import read as read_holders
from debtloops.model.parameters import Parameter, load_parameters
from debtloops.paths import MODEL_FILE_NAME, MODELS_DIR

#: The template's file name in the models folder.
TEMPLATE_NAME = "holder_template.mdl"
#: The holder list's and the parameter table's file names in the models folder.
LIST_NAME = "holders.toml"
TABLE_NAME = "parameters.toml"
#: The group written once per holder, and the group of the sums over holders.
EACH_HOLDER = "foreign holders"
SUMS = "sums over foreign holders"
#: A Vensim group line: ``****``, a tab and ``.name``, ``****~``, its comment, ``|``.
_GROUP = re.compile(r"^\*+\n\t\.(?P<name>[^\n]+)\n\*+~\n[^|]*\|\n", re.MULTILINE)
#: Text written once per holder in :data:`SUMS`.
_EACH = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
#: A constant whose value the parameter table gives: ``name=``, then ``$value`` on its own line.
_CONSTANT = re.compile(r"^(?P<name>[^\n=]+?)\s*=\n\t\$value$", re.MULTILINE)


def _groups(text: str, where: str) -> dict[str, tuple[int, int, int]]:
    """Return each group's start, the end of its group line and its end (the next group's start)."""
    found = list(_GROUP.finditer(text))
    spans: dict[str, tuple[int, int, int]] = {}
    for match, following in zip(found, [*found[1:], None], strict=True):
        end = following.start() if following else len(text)
        if match["name"] in spans:
            raise InputError(f"{where} has two groups named .{match['name']}")
        spans[match["name"]] = (match.start(), match.end(), end)
    return spans


def _number(value: float) -> str:
    """Write a value as the .mdl does: ``2026`` for 2026.0, ``1189.3`` as it is."""
    text = repr(float(value))
    return text.removesuffix(".0")


def _fill(template: str, holder: Holder, where: str) -> str:
    """Return ``template`` with a holder's names in place of its ``$`` placeholders."""
    names = {
        "holder": holder.mdl_name,
        "name": holder.name,
        "tic": holder.tic_label,
        "extra_sales": "".join(f" + {term}" for term in holder.extra_sales),
        "value": "$value",
    }
    try:
        return Template(template).substitute(names)
    except (KeyError, ValueError) as error:
        raise InputError(
            f"{where} has an unknown placeholder {error}; known: "
            + ", ".join(f"${name}" for name in names)
        ) from None


def _values(block: str, holder: Holder, table: Mapping[str, Parameter]) -> str:
    """Return a holder's block with each ``$value`` replaced by the parameter table's value."""

    def value(match: re.Match[str]) -> str:
        name = "_".join(match["name"].split())
        if name not in table:
            raise InputError(
                f"models/{TABLE_NAME} has no row [{name}] for the constant '{match['name']}' of "
                f"holder '{holder.key}': add it, with its value, units, range and source"
            )
        return f"{match['name']}=\n\t{_number(table[name].value)}"

    return _CONSTANT.sub(value, block)


def render(
    template: str, holders: Sequence[Holder], table: Mapping[str, Parameter]
) -> dict[str, str]:
    """Return the text of each generated group, its group line included.

    Parameters
    ----------
    template : str
        The text of ``models/holder_template.mdl``.
    holders : sequence of Holder
        The holders, in the order their blocks are written.
    table : mapping of str to Parameter
        The parameter table (:func:`debtloops.model.parameters.load_parameters`), which gives
        the holders' constants their values.

    Returns
    -------
    dict
        Group name (:data:`EACH_HOLDER`, :data:`SUMS`) -> its text.
    """
    spans = _groups(template, TEMPLATE_NAME)
    for name in (EACH_HOLDER, SUMS):
        if name not in spans:
            raise InputError(f"{TEMPLATE_NAME} has no group .{name}")
    texts = {}
    for name in (EACH_HOLDER, SUMS):
        start, body, end = spans[name]
        line, text = template[start:body], template[body:end]
        if name == EACH_HOLDER:
            blocks = (
                _values(_fill(text, holder, TEMPLATE_NAME), holder, table) for holder in holders
            )
            texts[name] = line + "".join(blocks)
        else:
            each = _EACH.sub(
                lambda match: "".join(_fill(match[1], holder, TEMPLATE_NAME) for holder in holders),
                text,
            )
            texts[name] = line + each
    return texts


def generate(mdl: str, groups: Mapping[str, str]) -> str:
    """Return the .mdl's text with its generated groups replaced by ``groups`` (:func:`render`)."""
    spans = _groups(mdl, MODEL_FILE_NAME)
    missing = [name for name in groups if name not in spans]
    if missing:
        raise InputError(
            f"{MODEL_FILE_NAME} has no group .{missing[0]} for make holders to write: add its "
            f"group line (copy it from {TEMPLATE_NAME}) before the .Control group"
        )
    for name in sorted(groups, key=lambda name: spans[name][0], reverse=True):
        start, _, end = spans[name]
        mdl = mdl[:start] + groups[name] + mdl[end:]
    return mdl


def expected_model(models_dir: Path = MODELS_DIR) -> tuple[str, str]:
    """Return the .mdl's text as it is and as the template and the holder list make it.

    Parameters
    ----------
    models_dir : Path
        The models folder: the .mdl, the template, the holder list and the parameter table.

    Returns
    -------
    current, generated : str
    """
    current = (models_dir / MODEL_FILE_NAME).read_text(encoding="utf-8")
    template = (models_dir / TEMPLATE_NAME).read_text(encoding="utf-8")
    holders = read_holders(models_dir / LIST_NAME)
    groups = render(template, holders, load_parameters(models_dir / TABLE_NAME))
    return current, generate(current, groups)


def write_model(models_dir: Path = MODELS_DIR) -> bool:
    """Write the generated groups into the models folder's .mdl; return whether it changed.

    The new text is written beside the .mdl and renamed over it, so an interrupted write leaves
    the old file whole.
    """
    current, generated = expected_model(models_dir)
    if generated == current:
        return False
    target = models_dir / MODEL_FILE_NAME
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", dir=models_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(generated)
        os.chmod(scratch, target.stat().st_mode)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Write the holders' groups into the .mdl (``make holders``); exit 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m debtloops.model.holder_blocks")
    parser.add_argument(
        "models", nargs="?", type=Path, default=MODELS_DIR, help="the models folder"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the .mdl is out of step"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            current, generated = expected_model(args.models)
            changed = generated != current
        else:
            changed = write_model(args.models)
    except InputError as error:
        print(f"make holders: {error}", file=sys.stderr)
        return 2
    where = args.models / MODEL_FILE_NAME
    if args.check:
        state = "out of step with" if changed else "in step with"
        print(f"{where} is {state} the template, the holder list and the parameter table")
        return int(changed)
    print(f"{where}: {'holders written' if changed else 'already in step, unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
