"""Running a graph of study parts side by side on a fixed number of worker slots.

A part that spreads its own work over the workers (the episodes' shards) takes every
slot; any other part takes one. Whenever a slot frees, the ready parts (inputs done) are
started in the order given, each that fits. A part that needs every slot waits until
they are all free, and the one-slot parts behind it fill the free slots meanwhile (the
graph is finite, so it runs once no one-slot part is ready; holding those parts back
instead left a slot idle for minutes in a scale-4 study). Because the slots never
exceed the workers, a part never waits in the executor's queue behind another part,
so the seconds it records are its own.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar


class Schedulable(Protocol):
    name: str
    inputs: tuple[str, ...]
    spreads: bool


P = TypeVar("P", bound=Schedulable)
R = TypeVar("R")


def run_side_by_side(parts: Sequence[P], slots: int, run: Callable[[P], R]) -> dict[str, R]:
    """`run(part)` for every part, each after its inputs, at most `slots` slots' worth
    at once (each `run` in its own thread of this process); the results by part name.
    The first exception a part raises is raised here once the running parts finish."""
    if slots < 1:
        raise ValueError(f"slots must be >= 1, got {slots}")
    by_name = {part.name: part for part in parts}
    rank = {part.name: i for i, part in enumerate(parts)}
    sorter = graphlib.TopologicalSorter({part.name: part.inputs for part in parts})
    sorter.prepare()
    waiting: list[str] = []
    running: dict[Future, tuple[str, int]] = {}
    results: dict[str, R] = {}
    free = slots
    with ThreadPoolExecutor(slots) as threads:
        while sorter.is_active():
            waiting = sorted([*waiting, *sorter.get_ready()], key=rank.__getitem__)
            for name in list(waiting):
                need = slots if by_name[name].spreads else 1
                if need <= free:
                    waiting.remove(name)
                    free -= need
                    running[threads.submit(run, by_name[name])] = (name, need)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name, need = running.pop(future)
                results[name] = future.result()
                free += need
                sorter.done(name)
    return results
