"""The generalisation ladders, declared with the datasets (gn_pipelines/contracts/generalisation.py):
re-exported here for the anonymisation engine."""

from gn_pipelines.contracts.generalisation import *  # noqa: F401,F403
from gn_pipelines.contracts.generalisation import _band, _level  # noqa: F401
