"""Korean identifier rules (gn_pipelines/contracts/identifiers.py, where recipes and quality rules
declare them): re-exported here for the scrubber and the engine."""

from gn_pipelines.contracts.identifiers import *  # noqa: F401,F403
