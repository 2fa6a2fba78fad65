"""Layer sweep of activation additions: the cheese vector and the top-right vector,
each computed and added at every layer of `sweep_layers`, at a few coefficients.
The embedder's output (`HIDDEN_LAYER`, the 256 features both heads read) is one of
them: a difference of its activations (with minus without the cheese) is a vector
like any other, added to every observation's features.

Per layer, vector and coefficient, over the levels with a decision square (dsq; the
top-right vector also needs a maze smaller than the world, `corridor_is_empty`): the
mean change of P(move towards the cheese) and of P(move towards the top-right cell)
at the dsq, and the mean over levels of the mean total-variation distance between
the edited and unedited move probabilities at every other cell of the vector field
(`field_tv`: how much the vector breaks the rest of the policy). Each level gets its
own vector (`added`); the activations before the layer are cached (`LayerCache`), so
every coefficient reruns only the rest of the network.

Each mean change of a probability is tested against 0 (two-sided sign-flip test over
levels, `stats.multiplicity`); the family of its q-value (Benjamini-Hochberg) is every
layer x vector x coefficient x probability target of the run. `field_tv` is a
distance, never below 0, so "no change" is no test of it: its rows have no p- or
q-value and are not in the family.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from behavstats.engine import BATCH, LayerCache, probs
from behavstats.env import Observer
from behavstats.experiments import LayerSweep
from behavstats.interventions.effects import estimate_ci, tv_distance
from behavstats.interventions.forward import (
    DecisionSquares,
    added,
    decision_levels,
)
from behavstats.interventions.vectors import cheese_vectors, corridor_is_empty, top_right_vectors
from behavstats.maze import Maze
from behavstats.policy import Policy
from behavstats.results import Result, quantity_row
from behavstats.stats.multiplicity import family_row, sign_flip_pvalues, with_tests
from behavstats.vfield import FIELD_GROUP, field_observations
from behavstats.vocabulary import (
    HIDDEN_LAYER,
    P_CHEESE,
    P_TOPRIGHT,
    at_layer,
    edited,
    vector_name,
)

COEFFS = {"cheese": (-1.0, 1.0), "top_right": (1.0, 2.0)}
"""Coefficients of each vector (activation + coeff * vector)."""
TARGETS = (P_CHEESE, P_TOPRIGHT, "field_tv")
TESTED = (P_CHEESE, P_TOPRIGHT)
"""The targets whose mean change is tested against 0 (the family, with every layer,
vector and coefficient)."""
FAMILY = "layer x vector x coefficient x probability"
"""The sweep's family of tests, as its summary row names it."""
COLUMNS = ("vector", "layer", "coeff", "target", "estimate", "ci_low", "ci_high", "n",
           "p_value", "q_value")
QUANTITY = {P_CHEESE: f"{P_CHEESE}_change", P_TOPRIGHT: f"{P_TOPRIGHT}_change",
            "field_tv": "field_tv"}
"""The summary quantity of each target."""
_OLD_TARGET = {"p_top_right": P_TOPRIGHT}
"""Spellings of version 0.2 and before, read as today's (`LayerSweepResult.upgrade`)."""
_VECTORS = {"cheese": cheese_vectors, "top_right": top_right_vectors}


def sweep_layers(policy: Policy) -> list[str]:
    """Every residual add, in network order (the second of each IMPALA block is the
    block's output), then the embedder's output `HIDDEN_LAYER`."""
    return [*(f"{stage}.resadd" for stage in policy.stage_names
              if stage.endswith((".res1", ".res2"))), HIDDEN_LAYER]


@dataclass(frozen=True, eq=False)
class LayerSweepResult(Result):
    """What `LayerSweep.run` (`run_layer_sweep`) measured.

    layer_sweep: one row per vector, layer, coeff and target (`COLUMNS`): the mean
        change (probabilities: edited - unedited; field_tv: the distance) with its
        bootstrap interval over levels, the number of levels n, and for the
        probabilities p_value (sign-flip test of no mean change) and q_value
        (Benjamini-Hochberg over those rows; field_tv rows: NaN).
    levels: one row per vector, layer, coeff and level: level, p_cheese, p_topright
        (changes at the dsq), field_tv (mean TV over the field's other cells).
    params: the settings (`LayerSweep`) with the layers and coeffs (vector ->
        coefficients) used, and n_levels.

    Up to version 0.2 the top-right target was spelled p_top_right (in `target`, the
    levels column) and the summary's condition "top_right vector x <coeff> at
    <layer>"; `load` reads such results in today's spellings.
    """

    layer_sweep: pd.DataFrame
    levels: pd.DataFrame
    params: dict
    topic = "layer_sweep"
    settings_type = LayerSweep
    csv_tables = ("layer_sweep",)
    renamed_columns = {"levels": _OLD_TARGET}

    def _rows(self) -> list[dict]:
        """Every row of the table: the target's quantity under '<vector name> x <coeff>
        at <layer>' (e.g. 'top-right vector x 2 at embedder.block2.res1.resadd'); then
        how many of the family's tests are significant."""
        return [*(quantity_row(QUANTITY[r.target], at_layer(edited(r.vector, r.coeff),
                                                            r.layer),
                               r.estimate, r.ci_low, r.ci_high, r.n, r.p_value, r.q_value)
                  for r in self.layer_sweep.itertuples()),
                family_row(FAMILY, self.layer_sweep["q_value"])]

    @classmethod
    def upgrade(cls, name: str, table: pd.DataFrame) -> pd.DataFrame:
        """Also the old target values and summary conditions (class docstring)."""
        table = super().upgrade(name, table)
        if name == "layer_sweep":
            return table.assign(target=table["target"].replace(_OLD_TARGET))
        if name == "summary":
            return table.assign(condition=table["condition"].str.replace(
                "top_right vector x ", f"{vector_name('top_right')} x ", regex=False))
        return table

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Effect by layer with its interval, one panel per target."""
        from behavstats.plots.sweeps import plot_layer_sweep

        return {"layer_sweep": lambda: plot_layer_sweep(self.layer_sweep)}


def run_layer_sweep(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                    out_dir: str | Path | None = None, *, progress: bool = False,
                    batch: int = BATCH, **settings: Any) -> LayerSweepResult:
    """`LayerSweep(**settings).run(policy, levels, out_dir)`: both vectors over the
    layers on the levels (seeds or mazes). NoUsableLevelsError when no level has a
    decision square."""
    return LayerSweep(**settings).run(policy, levels, out_dir, progress=progress,
                                      batch=batch)


def compute(settings: LayerSweep, policy: Policy, levels: Sequence[int] | Sequence[Maze], *,
            progress: bool = False, batch: int = BATCH) -> LayerSweepResult:
    """The layer sweep (`LayerSweep.run`) over the settings' layers (default
    `sweep_layers`) and coefficients (default `COEFFS`)."""
    seed, n_boot = settings.seed, settings.n_boot
    mazes, points, chosen = decision_levels(levels, settings.mode)
    layers = list(settings.layers or sweep_layers(policy))
    coeffs = {name: np.asarray(c, dtype=float)
              for name, c in (settings.coeffs or COEFFS).items()}
    observer = Observer(batch=batch)
    usable = {"cheese": np.ones(len(chosen), bool),
              "top_right": np.array([not corridor_is_empty(mazes[i]) for i in chosen])}
    rows, vectors = [], {}
    for layer in tqdm(layers, desc="layer sweep (dsq)", disable=not progress):
        dsq = DecisionSquares.of(policy, mazes, points, chosen, layer, observer, batch=batch)
        for name, coeff in coeffs.items():
            vectors[name, layer] = _VECTORS[name](policy, dsq.mazes, layer, observer)
            owner, cf, patched = dsq.sweep(vectors[name, layer], coeff)
            r = np.arange(len(owner))
            rows.append(pd.DataFrame({
                "vector": name, "layer": layer, "coeff": cf, "level": np.array(dsq.ids)[owner],
                P_CHEESE: patched[r, dsq.to_cheese[owner]]
                - dsq.original[owner, dsq.to_cheese[owner]],
                P_TOPRIGHT: patched[r, dsq.to_top_right[owner]]
                - dsq.original[owner, dsq.to_top_right[owner]],
                "used": usable[name][owner]}))
    per_level = pd.concat(rows, ignore_index=True)
    used = [mazes[i] for i in chosen]
    tv = _field_tv(policy, used, [points[i].cell for i in chosen], layers, coeffs, vectors,
                   observer, progress, batch)
    per_level["field_tv"] = tv
    per_level = per_level[per_level.pop("used")].reset_index(drop=True)
    params = {**settings.to_dict(), "layers": layers,
              "coeffs": {k: list(v) for k, v in coeffs.items()}, "n_levels": len(mazes)}
    return LayerSweepResult(_aggregate(per_level, seed, n_boot), per_level, params)


def _field_tv(policy: Policy, mazes: list[Maze], dsq_cells: list, layers: list[str],
              coeffs: dict[str, np.ndarray], vectors: dict, observer: Observer,
              progress: bool, batch: int) -> np.ndarray:
    """Mean TV over each maze's field cells other than its dsq, in the row order of
    the per-level table (layer, vector, coeff, maze). Each group of mazes is rendered
    and its unedited probabilities computed once, and it is cached at every layer."""
    n = len(mazes)
    out = {(name, layer): np.zeros((len(coeff), n)) for layer in layers
           for name, coeff in coeffs.items()}
    groups = field_observations(mazes, observer)
    for group, field_rows, obs in tqdm(groups, total=-(-n // FIELD_GROUP),
                                       desc="layer sweep (fields)", disable=not progress):
        other = np.array([cell != dsq_cells[group[m]] for m, cells
                          in enumerate(field_rows.cells) for cell in cells])
        base = probs(policy, obs, batch=batch)
        for layer in layers:
            cache = LayerCache(policy, obs, layer, batch=batch)
            for name, coeff in coeffs.items():
                index = np.tile(np.arange(len(obs)), len(coeff))
                owner, cf = field_rows.owner[index], np.repeat(coeff, len(obs))
                edits = added(layer, (vectors[name, layer][group], owner, cf))
                tv = tv_distance(cache.probs(edits, index=index), base[index])
                frame = pd.DataFrame({"k": np.repeat(np.arange(len(coeff)), len(obs)),
                                      "m": group[owner], "tv": tv})[np.tile(other, len(coeff))]
                for (k, m), value in frame.groupby(["k", "m"])["tv"].mean().items():
                    out[name, layer][k, m] = value
    return np.concatenate([out[name, layer].ravel() for layer in layers for name in coeffs])


def _aggregate(per_level: pd.DataFrame, seed: int, n_boot: int) -> pd.DataFrame:
    """`COLUMNS`: mean and bootstrap interval over levels of each target, and the
    tests of the `TESTED` targets."""
    rows, samples = [], []
    for (vector, layer, coeff), part in per_level.groupby(["vector", "layer", "coeff"],
                                                          sort=False):
        for target in TARGETS:
            values = part[target].to_numpy()
            rows.append({"vector": vector, "layer": layer, "coeff": coeff, "target": target,
                         **estimate_ci(values, seed=seed, n_boot=n_boot)})
            samples.append(values if target in TESTED else [])
    table = with_tests(pd.DataFrame(rows), sign_flip_pvalues(samples, seed=seed))
    return table[list(COLUMNS)]
