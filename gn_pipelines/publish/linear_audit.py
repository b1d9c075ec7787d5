"""Exact rank checks for the linear audit of suppressed cells (`suppression.py`).

The margin equations of a table (one per margin total, each a sum of cells) are brought to row
echelon form by sparse Gaussian elimination modulo the prime 2³¹−1: exact, no rounding, and
sparse enough for a province-wide cube whose suppressed cells form one connected component
(where an SVD per component would not do). A cell is determined by the equations iff it reads 0
in random null-space vectors. numpy, the heapq and plain dicts; no DuckDB and no Dagster.
"""

from __future__ import annotations

import random
from heapq import heapify, heappop, heappush

import numpy as np

_PRIME = 2**31 - 1  # elimination modulo a prime is exact; products of two residues fit in 62 bits
_NULL_DRAWS = 2  # random null-space vectors: an undetermined cell reads 0 in both with odds 1/_PRIME²

_Step = tuple[int, int, int, dict[int, int], list[tuple[int, int]]]  # row, unknown, 1/pivot, rest, updates


class MarginEchelon:
    """The margin equations over the unknowns added so far, in row echelon form modulo _PRIME.

    Rows (margin totals) are fixed; unknowns (columns) are added in batches, and the recorded
    row operations are replayed on new columns, so a few more complements cost little."""

    def __init__(self, equations: int):
        self._rows: list[dict[int, int] | None] = [{} for _ in range(equations)]  # None once a pivot
        self._steps: list[_Step] = []
        self.unknowns = 0

    def add(self, memberships: list[list[int]]) -> None:
        """Add unknowns; `memberships[k]` lists the equations holding the k-th new one."""
        new: dict[int, dict[int, int]] = {}
        for unknown, rows in enumerate(memberships, start=self.unknowns):
            for row in rows:
                new.setdefault(row, {})[unknown] = 1
        self.unknowns += len(memberships)
        for pivot_row, _, _, entries, updates in self._steps:
            part = new.pop(pivot_row, None)
            if part:
                entries.update(part)
                for row, factor in updates:
                    _subtract(new.setdefault(row, {}), part, factor)
        occurrences: dict[int, set[int]] = {}
        for row, part in new.items():  # rows never pivoted: zero on every earlier unknown
            if part:
                self._rows[row] = part
                for unknown in part:
                    occurrences.setdefault(unknown, set()).add(row)
        _eliminate(self._rows, occurrences, list(new), self._steps)

    def determined(self, given: np.ndarray | None = None) -> np.ndarray:
        """Per unknown: whether the equations, and the values of the unknowns `given` (published
        cells), fix it; decided by random null-space vectors, where such an unknown reads 0."""
        steps = self._steps + (self._given_steps(given) if given is not None else [])
        pivots = {step[1] for step in steps}
        draw = random.Random(0)
        determined = np.ones(self.unknowns, bool)
        for _ in range(_NULL_DRAWS):
            values = [0 if u in pivots else draw.randrange(1, _PRIME) for u in range(self.unknowns)]
            for _, unknown, inverse, entries, _ in reversed(steps):
                values[unknown] = -sum(c * values[u] for u, c in entries.items()) * inverse % _PRIME
            determined &= np.array(values) == 0
        return determined

    def _given_steps(self, given: np.ndarray) -> list[_Step]:
        """Steps for the equations `unknown = value` of the given unknowns, reduced by the recorded
        steps (in their order, which leaves them over never-pivoted unknowns) and eliminated."""
        step_of = {step[1]: k for k, step in enumerate(self._steps)}
        rows: dict[int, dict[int, int] | None] = {k: {int(u): 1} for k, u in enumerate(given)}
        holders: dict[int, set[int]] = {int(u): {k} for k, u in enumerate(given)}
        queue = [step_of[u] for u in holders if u in step_of]
        heapify(queue)
        done = set()
        while queue:
            k = heappop(queue)
            if k in done:
                continue
            done.add(k)
            _, unknown, inverse, entries, _ = self._steps[k]
            for row in holders.pop(unknown, ()):
                target = rows[row]
                factor = target.pop(unknown) * inverse % _PRIME
                for other, coefficient in entries.items():
                    value = (target.get(other, 0) - factor * coefficient) % _PRIME
                    if value:
                        if other not in target:
                            holders.setdefault(other, set()).add(row)
                            if other in step_of:
                                heappush(queue, step_of[other])
                        target[other] = value
                    elif other in target:
                        del target[other]
                        holders[other].discard(row)
        steps: list[_Step] = []
        _eliminate(rows, holders, list(rows), steps)
        return steps


def _eliminate(rows, occurrences: dict[int, set[int]], rows_to_do: list[int], steps: list[_Step]) -> None:
    """Gaussian elimination of `rows_to_do` (sparse rows {unknown: coefficient}) into `steps`.
    Markowitz-style order: the shortest row, on its unknown in the fewest rows (least fill-in)."""
    queue = [(len(rows[r]), r) for r in rows_to_do if rows[r]]
    heapify(queue)
    while queue:
        length, pivot_row = heappop(queue)
        entries = rows[pivot_row]
        if not entries or len(entries) < length:
            continue  # it shrank (queued again then) or cancelled out
        if len(entries) > length:
            heappush(queue, (len(entries), pivot_row))  # it grew: queued only now, lazily
            continue
        unknown = min(entries, key=lambda u: len(occurrences[u]))
        inverse = pow(entries.pop(unknown), -1, _PRIME)
        for other in entries:
            occurrences[other].discard(pivot_row)
        holders = occurrences.pop(unknown)
        holders.discard(pivot_row)
        updates = []
        for row in holders:
            target = rows[row]
            before = len(target)
            factor = target.pop(unknown) * inverse % _PRIME
            updates.append((row, factor))
            for other, coefficient in entries.items():
                if other in target:
                    value = (target[other] - factor * coefficient) % _PRIME
                    if value:
                        target[other] = value
                    else:
                        del target[other]
                        occurrences[other].discard(row)
                else:  # fill-in; nonzero, as both factors are nonzero modulo a prime
                    target[other] = -factor * coefficient % _PRIME
                    occurrences[other].add(row)
            if len(target) < before:
                heappush(queue, (len(target), row))
        rows[pivot_row] = None
        steps.append((pivot_row, unknown, inverse, entries, updates))


def _subtract(target: dict[int, int], part: dict[int, int], factor: int) -> None:
    for unknown, coefficient in part.items():
        value = (target.get(unknown, 0) - factor * coefficient) % _PRIME
        if value:
            target[unknown] = value
        else:
            target.pop(unknown, None)
