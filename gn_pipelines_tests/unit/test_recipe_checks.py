"""Checks that can fail (issue 11, item 7): a k, l or residual check with nothing to check is an
error when the recipe is built (at load), and every contract's declared checks have a subject."""

import pytest

from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.privacy.generalisation import sex_ladder
from gn_pipelines.privacy.recipes import OPEN_DATA_K, PUBLISHED_K, RECIPES, RecipeError, Release


@pytest.mark.parametrize("dataset", sorted(CONTRACTS))
def test_every_contract_declares_only_checks_that_can_fail(dataset):
    release = RECIPES[dataset].release
    assert release.text_columns, "the residual scan must read something"
    assert ("k" in release.checks) == bool(release.quasi_identifiers) == (release.k is not None)
    assert ("l" in release.checks) == bool(release.sensitive) == (release.l is not None)
    if release.quasi_identifiers:
        assert release.k >= 2
    if release.sensitive:
        assert release.l >= 2


@pytest.mark.parametrize("dataset", sorted(CONTRACTS))
def test_the_deidentified_asset_declares_the_recipe_checks_and_no_other(dataset):
    from gn_pipelines.assets.deidentification import (
        K_CHECK, L_CHECK, RESIDUAL_CHECK, build_deidentified_asset,
    )

    asset = build_deidentified_asset(CONTRACTS[dataset])
    declared = {spec.name for spec in asset.check_specs}
    names = {"residual": RESIDUAL_CHECK, "k": K_CHECK, "l": L_CHECK}
    assert declared == {names[c] for c in RECIPES[dataset].release.checks}


@pytest.mark.parametrize("arguments, message", [
    (dict(k=5), "no quasi-identifier"),
    (dict(quasi_identifiers=(sex_ladder(),)), "need k"),
    (dict(quasi_identifiers=(sex_ladder(),), k=1), "need k"),
    (dict(quasi_identifiers=(sex_ladder(),), k=5, l=2), "no sensitive attribute"),
    (dict(quasi_identifiers=(sex_ladder(),), k=5, sensitive=("benefit_type",)), "need l"),
    (dict(text_columns=()), "text columns"),
    (dict(free_text=("body",)), "scanned"),
])
def test_a_check_with_nothing_to_check_is_an_error_at_load(arguments, message):
    with pytest.raises(RecipeError, match=message):
        Release(**{"text_columns": ("title",), **arguments})


def test_thresholds_live_in_the_recipes():
    assert (PUBLISHED_K, OPEN_DATA_K) == (5, 10)
    assert {RECIPES[d].release.k for d in ("civil_complaints", "welfare_recipients")} == {PUBLISHED_K}
