"""The classification tree of ``debtloops discover``: scikit-learn's, its rules as text."""

from __future__ import annotations

import math

import numpy as np

#: Depth of the classification tree [levels].
TREE_DEPTH = 3
#: Smallest leaf of the tree [share of the samples, 1].
TREE_MIN_LEAF = 0.02
#: Seed of the tree's tie-breaking between equally good splits.
TREE_SEED = 0


def tree_rules(x: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[str, int, float]:
    """Fit a classification tree to the cases of interest and return its rules.

    Returns
    -------
    tuple
        The rules as text (scikit-learn's ``export_text``), the parameter of the first split
        (its column; -1 if the tree does not split) and that split's threshold [its units].
    """
    from sklearn.tree import DecisionTreeClassifier, export_text

    leaf = max(1, math.ceil(TREE_MIN_LEAF * len(y)))
    tree = DecisionTreeClassifier(
        max_depth=TREE_DEPTH, min_samples_leaf=leaf, random_state=TREE_SEED
    )
    tree.fit(x, y.astype(int))
    text = export_text(tree, feature_names=list(names), show_weights=True)
    first = int(tree.tree_.feature[0])
    threshold = float(tree.tree_.threshold[0]) if first >= 0 else math.nan
    return text, (first if first >= 0 else -1), threshold
