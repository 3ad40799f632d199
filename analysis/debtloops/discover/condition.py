"""The condition of ``debtloops discover --where``: its parser and its evaluation.

A small recursive-descent parser (no ``eval``): comparisons ``>``, ``>=``, ``<``, ``<=`` of an
outcome with a number, joined by ``and`` and ``or``, with parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from debtloops.errors import InputError, unknown_name

#: The comparison operators a condition may use.
OPERATORS = (">=", "<=", ">", "<")

_TOKEN = re.compile(
    r"\s*(?:(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[<>=!]=?|=)|(?P<paren>[()])|(?P<bad>\S))"
)


@dataclass(frozen=True)
class Compare:
    """``outcome op threshold``, the threshold in the outcome's shown units."""

    outcome: str
    op: str
    threshold: float


@dataclass(frozen=True)
class Join:
    """``left and right`` or ``left or right``."""

    word: str
    left: Compare | Join
    right: Compare | Join


def _tokens(text: str) -> list[tuple[str, str]]:
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        value = match.group(kind)
        if kind == "bad":
            raise InputError(f"--where '{text}': unexpected character '{value}'")
        if kind == "name" and value.lower() in ("and", "or"):
            kind, value = "word", value.lower()
        found.append((kind, value))
    return found


class _Parser:
    """The recursive descent over one condition's tokens (see :func:`parse`)."""

    def __init__(self, text: str, outcomes: list[str] | tuple[str, ...]) -> None:
        self.text = text
        self.outcomes = outcomes
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str]:
        if self.position < len(self.tokens):
            return self.tokens[self.position]
        return ("end", "end of the condition")

    def fail(self, wanted: str) -> InputError:
        return InputError(f"--where '{self.text}': expected {wanted}, found '{self.peek()[1]}'")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.position += 1
        return token

    def expr(self) -> Compare | Join:
        node = self.term()
        while self.peek() == ("word", "or"):
            self.take()
            node = Join("or", node, self.term())
        return node

    def term(self) -> Compare | Join:
        node = self.factor()
        while self.peek() == ("word", "and"):
            self.take()
            node = Join("and", node, self.factor())
        return node

    def factor(self) -> Compare | Join:
        kind, value = self.peek()
        if (kind, value) == ("paren", "("):
            self.take()
            node = self.expr()
            if self.peek() != ("paren", ")"):
                raise self.fail("')'")
            self.take()
            return node
        if kind != "name":
            raise self.fail("an outcome name or '('")
        self.take()
        if value not in self.outcomes:
            raise unknown_name("outcome", value, self.outcomes)
        return self.comparison(value)

    def comparison(self, outcome: str) -> Compare:
        """Read the operator and the number that follow an outcome's name."""
        kind, op = self.peek()
        if kind != "op":
            raise self.fail("one of " + ", ".join(OPERATORS))
        if op not in OPERATORS:
            raise InputError(
                f"--where '{self.text}': unknown operator '{op}'; use one of {', '.join(OPERATORS)}"
            )
        self.take()
        kind, number = self.peek()
        if kind != "number":
            raise self.fail("a number")
        self.take()
        return Compare(outcome, op, float(number))


def parse(text: str, outcomes: list[str] | tuple[str, ...]) -> Compare | Join:
    """Parse a condition such as ``"debt_to_gdp_2055 > 170 and peak_market_yield >= 6"``.

    Grammar: ``expr := term ('or' term)*``, ``term := factor ('and' factor)*``,
    ``factor := '(' expr ')' | OUTCOME OP NUMBER``, with OP one of :data:`OPERATORS`.

    Parameters
    ----------
    text : str
        The condition.
    outcomes : sequence of str
        The outcome names it may use.

    Returns
    -------
    Compare or Join
        The parsed condition.

    Raises
    ------
    InputError
        For a syntax error, an unknown operator or an unknown outcome (naming the nearest one).
    """
    parser = _Parser(text, outcomes)
    if not parser.tokens:
        raise InputError("--where is empty; e.g. --where 'debt_to_gdp_2055 > 170'")
    node = parser.expr()
    if parser.position != len(parser.tokens):
        raise parser.fail("'and', 'or' or the end")
    return node


def evaluate(node: Compare | Join, values: dict[str, np.ndarray]) -> np.ndarray:
    """Return where the condition holds, given each outcome's values [shown units]."""
    if isinstance(node, Join):
        left, right = evaluate(node.left, values), evaluate(node.right, values)
        return (left & right) if node.word == "and" else (left | right)
    x = values[node.outcome]
    compare = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
    return compare[node.op](x, node.threshold)


def named(node: Compare | Join) -> set[str]:
    """Return the outcome names a condition uses."""
    if isinstance(node, Join):
        return named(node.left) | named(node.right)
    return {node.outcome}
