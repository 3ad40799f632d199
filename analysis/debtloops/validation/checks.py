"""One line of the fidelity report: a model figure, its reference and the range it must lie in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One line of the fidelity report.

    Attributes
    ----------
    check : str
        What is compared.
    model, reference : float
        The model's value and the reference's, in ``units``.
    low, high : float
        The accepted range, in ``units``.
    units : str
        Units of the three numbers.
    source : str
        Where the reference comes from.
    """

    check: str
    model: float
    reference: float
    low: float
    high: float
    units: str
    source: str

    @property
    def passed(self) -> bool:
        """Whether the model's value lies in the accepted range."""
        return self.low <= self.model <= self.high

    @property
    def tolerance(self) -> str:
        """The accepted range as text."""
        return f"[{number_text(self.low)}, {number_text(self.high)}]"


def number_text(value: float) -> str:
    """Format a number as the report prints it: thousands separated, else four digits."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
