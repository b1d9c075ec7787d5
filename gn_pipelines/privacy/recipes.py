"""The recipes of the declared datasets, by dataset, for the de-identification engine; the recipe
types and the privacy thresholds (k, l, the small-cell limit) live in one place,
gn_pipelines/contracts/recipes.py, and each dataset states its recipe in its declaration."""

from gn_pipelines.contracts.recipes import *  # noqa: F401,F403
from gn_pipelines.datasets import RECIPES  # noqa: F401
