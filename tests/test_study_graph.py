"""The study as a declared graph: each part runs once, after its inputs, and gets
their results; a change recomputes exactly the parts that depend on it; a failed
part stops only the parts that read it."""

import graphlib
import json
import threading
import time

import pytest

from behavstats.errors import UserError
from behavstats.study.config import StudyConfig
from behavstats.study.pipeline import PARTS, SECTIONS, Part, computation_order, run_parts
from behavstats.study.schedule import run_side_by_side


class Toy:
    """Parts a <- b <- c (c also reads a) whose settings and failures the test sets."""

    def __init__(self):
        self.calls: list[str] = []
        self.settings = {"a": 1, "b": 1, "c": 1}
        self.failing: set[str] = set()

    def part(self, name: str, *inputs: str) -> Part:
        def compute(run):
            self.calls.append(name)
            if name in self.failing:
                raise UserError(f"{name} has too little data")
            value = self.settings[name] + sum(run.inputs[i] for i in inputs)
            (run.directory / "value.json").write_text(json.dumps(value))

        return Part(name, "fields", lambda config: {"x": self.settings[name]}, compute,
                    lambda directory: json.loads((directory / "value.json").read_text()),
                    inputs)

    def parts(self) -> list[Part]:
        return [self.part("c", "a", "b"), self.part("b", "a"), self.part("a")]


@pytest.fixture()
def toy(make_policy, tmp_path):
    toy = Toy()
    policy = make_policy(0)

    def run():
        toy.calls.clear()
        return run_parts(policy, tmp_path, StudyConfig(), toy.parts(), log=lambda _: None)

    return toy, run, tmp_path


def test_each_part_runs_once_after_its_inputs_and_reads_their_results(toy):
    toy, run, out = toy
    outcomes = run()
    assert toy.calls == ["a", "b", "c"]
    assert [o.name for o in outcomes] == ["c", "b", "a"]  # in the order declared
    assert json.loads((out / "c" / "value.json").read_text()) == 1 + 1 + (1 + 1)
    run()
    assert toy.calls == []


def test_a_change_recomputes_exactly_what_depends_on_it(toy):
    toy, run, out = toy
    run()
    toy.settings["b"] = 5
    run()
    assert toy.calls == ["b", "c"]
    assert json.loads((out / "c" / "value.json").read_text()) == 1 + 1 + (5 + 1)
    toy.settings["a"] = 2
    run()
    assert toy.calls == ["a", "b", "c"]


def test_a_failed_part_stops_only_its_readers(toy):
    toy, run, out = toy
    toy.failing = {"b"}
    run()
    assert toy.calls == ["a", "b"]  # c is not computed: it needs b
    assert "too little data" in (out / "b" / "error.json").read_text()
    assert "needs the b part" in (out / "c" / "error.json").read_text()
    assert (out / "a" / "value.json").exists()


def test_cycles_are_refused(toy):
    toy = toy[0]
    with pytest.raises(graphlib.CycleError):
        computation_order([toy.part("a", "b"), toy.part("b", "a")])


def test_the_study_declares_each_input_once():
    names = [p.name for p in PARTS]
    assert len(set(names)) == len(names)
    assert {p.section for p in PARTS} == set(SECTIONS)
    inputs = {p.name: p.inputs for p in PARTS}
    assert inputs["retarget"] == inputs["resample"] == ("channels",)  # one discovery
    assert inputs["evaluation"] == inputs["regression"] == ("episodes",)
    order = [p.name for p in computation_order(PARTS)]
    assert order.index("episodes") < order.index("evaluation")


class Clocked:
    """Parts that sleep and record when each ran and how many slots were busy."""

    def __init__(self):
        self.lock = threading.Lock()
        self.busy = 0
        self.peak = 0
        self.spans: dict[str, tuple[float, float]] = {}

    def run(self, part) -> str:
        need = 2 if part.spreads else 1
        with self.lock:
            self.busy += need
            self.peak = max(self.peak, self.busy)
            alone = self.busy == need
        start = time.perf_counter()
        time.sleep(0.05)
        with self.lock:
            self.busy -= need
            self.spans[part.name] = (start, time.perf_counter())
        if part.spreads:
            assert alone, f"{part.name} shared the workers"
        return part.name.upper()


def slot_part(name: str, *inputs: str, spreads: bool = False) -> Part:
    return Part(name, "fields", dict, lambda run: None, lambda d: None, inputs, spreads)


def test_side_by_side_fills_the_slots_keeps_the_order_and_gives_spreading_parts_every_slot():
    parts = [slot_part("episodes", spreads=True), slot_part("evaluation", "episodes",
                                                             spreads=True),
             slot_part("regression", "episodes"), *(slot_part(f"p{i}") for i in range(5)),
             slot_part("reader", "p0", "p1")]
    clocked = Clocked()
    results = run_side_by_side(parts, 2, clocked.run)
    assert results == {p.name: p.name.upper() for p in parts}
    assert clocked.peak == 2  # two at once, never more
    spans = clocked.spans
    for part in parts:
        for name in part.inputs:
            assert spans[name][1] <= spans[part.name][0]
    # the spreading part that came first among the ready ones, with every slot free,
    # started before the one-slot parts behind it
    assert all(spans["evaluation"][1] <= spans[f"p{i}"][0] for i in range(5))


def test_one_slot_parts_fill_a_free_slot_while_a_spreading_part_waits():
    parts = [slot_part("long"), slot_part("spreading", spreads=True), slot_part("short")]
    clocked = Clocked()
    run_side_by_side(parts, 2, clocked.run)
    spans = clocked.spans
    assert spans["short"][0] < spans["long"][1]  # beside the first part, not after it
    assert spans["spreading"][0] >= max(spans["long"][1], spans["short"][1])


def test_side_by_side_raises_a_parts_error_after_the_others_finish():
    finished = []

    def run(part):
        if part.name == "bad":
            raise RuntimeError("bad part")
        time.sleep(0.05)
        finished.append(part.name)

    with pytest.raises(RuntimeError, match="bad part"):
        run_side_by_side([slot_part("bad"), slot_part("good")], 2, run)
    assert finished == ["good"]
