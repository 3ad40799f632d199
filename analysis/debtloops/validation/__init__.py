"""The model against its references: CBO, history, the price-impact literature and the article.

``fidelity``  the checks of ``debtloops validate``, each with a tolerance fixed by its reference
``backtest``  runs from a past fiscal year with the drivers as they happened
``bonds``     the seed article's bond arithmetic
"""
