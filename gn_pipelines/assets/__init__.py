"""Dagster assets, one module per stage of a drop's path (collection first)."""
