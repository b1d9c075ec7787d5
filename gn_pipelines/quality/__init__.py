"""Quality core (no Dagster): rules from the contracts, Great Expectations suites, quarantine, scorecard."""
