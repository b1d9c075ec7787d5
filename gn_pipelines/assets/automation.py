"""The declarative automation condition of everything downstream of the drops."""

import dagster as dg

# Refresh when an input changed, but not while inputs are still being written. Not eager():
# its "no missing inputs" part never holds downstream of the provider × file partitions,
# where most cells stay empty (most providers never send most file names).
REFRESH_WHEN_INPUTS_CHANGE = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("refresh when inputs change")
