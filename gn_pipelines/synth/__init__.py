"""Synthetic municipal drops: realistic, seeded files in the landing zone, with chosen defects.

Plain Python (no Dagster): tests, benchmarks and the `gn-pipelines synth` command call it.
"""

from gn_pipelines.synth.civil_complaints import complaint_table, write_civil_complaints_drop
from gn_pipelines.synth.drops import CONTRACT_LAYOUT_DATASETS, DATASETS, DEFAULT_SEED, providers_for, synthesize_drops
from gn_pipelines.synth.model import DEFECTS, SynthFile
from gn_pipelines.synth.water_quality import STATIONS, write_water_quality_drop
from gn_pipelines.synth.welfare_recipients import write_welfare_recipients_drop

__all__ = [
    "CONTRACT_LAYOUT_DATASETS", "DATASETS", "DEFAULT_SEED", "DEFECTS", "STATIONS", "SynthFile", "complaint_table",
    "providers_for",
    "synthesize_drops", "write_civil_complaints_drop", "write_water_quality_drop",
    "write_welfare_recipients_drop",
]
