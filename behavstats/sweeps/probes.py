"""Linear probes: what each layer of `sweep_layers` encodes about the maze.

Three kinds of probe (`Probes.kinds`), all scored on levels the probe was not fitted
on, each beside a control task and the same probe on a randomly initialised network
of the same architecture (`Purpose.RANDOM_NETWORK`):

- flattened (this module): what the whole layer encodes about positions and outcomes;
- spatial (`spatial_probes`): one classifier shared over a convolutional layer's
  cells, for "the cheese is at this cell" and "this cell is on the path to the
  cheese", on each level's first observation;
- first_observation (`early_probes`): whether the episode reaches the cheese, read from
  its first observation, beside the same probe with the mouse at the decision square
  (kind decision_square) and on the published maze features (kind maze_features).

Flattened probes (`flat_probes`): observations along each episode's path, pooled
activations, targets cheese_x, cheese_y, mouse_x, mouse_y, cheese_in_tr5 and
reaches_cheese; accuracy beside the majority baseline, a per-maze relabelling control
task (Hewitt and Liang 2019) and the random network. Every kind's p_value is the
one-sided test that the probe beats its control task; q_value: Benjamini-Hochberg
within the family of each kind: every layer x target of the run's flattened probes
(`FAMILY`), of its spatial probes, of its early-decision probes.

The `probes` table, one row per kind, layer and target (`COLUMNS`): kind; score (what
accuracy, its interval, baseline, control_accuracy, selectivity and
random_network_accuracy measure: "accuracy" for flattened probes, "argmax_hit" (per
maze, chance as baseline) for spatial ones, "auc" (baseline 0.5) for the early ones);
p_value, q_value; n_train, n_test (observations, or mazes for the spatial and early
probes: the units scored); auc, auc_low, auc_high (the spatial probes' mean per-maze
AUC, the early probes' AUC, with intervals; NaN for flattened probes); log_loss and
baseline_log_loss (held-out log-loss of the probe and of the training share of
positives; NaN for flattened probes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from behavstats.engine import BATCH
from behavstats.env import Observer, render
from behavstats.experiments import Probes
from behavstats.interventions.forward import NoUsableLevelsError, as_mazes
from behavstats.maze import Maze
from behavstats.policy import Policy
from behavstats.results import Result, figure_only, quantity_row
from behavstats.stats.multiplicity import bh_qvalues, family_row
from behavstats.sweeps import early_probes, spatial_probes
from behavstats.sweeps.flat_probes import (  # noqa: F401  (the names' old home)
    FAMILY,
    TARGETS,
    episodes_of,
    flattened_probes,
    level_interval,
    probe_accuracy,
    probe_observations,
    score_probe,
)
from behavstats.sweeps.layers import sweep_layers
from behavstats.sweeps.probe_common import (  # noqa: F401  (the names' old home)
    CHUNK,
    MAX_ITER,
    PROBE_C,
    TEST_SHARE,
    control_labels,
    layer_features,
    level_split,
    random_network,
)
from behavstats.vocabulary import at_layer

COLUMNS = ("layer", "target", "accuracy", "ci_low", "ci_high", "baseline", "control_accuracy",
           "selectivity", "p_value", "q_value", "random_network_accuracy", "n_train", "n_test",
           "kind", "score", "auc", "auc_low", "auc_high", "log_loss", "baseline_log_loss")
"""The `probes` table's columns (module docstring): those of the flattened probes
first, as before the other kinds came."""
FAMILIES = {"flattened": FAMILY, "spatial": spatial_probes.FAMILY,
            **dict.fromkeys(early_probes.KINDS, early_probes.FAMILY)}
"""Each kind's family of tests."""
NAN = float("nan")


@dataclass(frozen=True, eq=False)
class ProbeResult(Result):
    """What `run_probes` measured (a table of a kind not run is None).

    probes: one row per kind, layer and target (`COLUMNS`, see the module docstring;
        p_value and q_value: the test that the probe beats its control task).
    observations: the flattened probes' observations, one row each: level, x, y (the
        mouse's maze cell), the `TARGETS` labels and test (in the held-out split).
    spatial: the spatial probes per held-out maze (`spatial_probes.MAZE_COLUMNS`).
    early: the early-decision probes per decision maze (`early_probes.MAZE_COLUMNS`).
    params: the settings (`Probes`; layers as probed), n_levels, n_decision_mazes.
    examples: figure material (`spatial_probes.ExampleMaps`), not saved.
    """

    probes: pd.DataFrame
    observations: pd.DataFrame | None
    params: dict
    spatial: pd.DataFrame | None = None
    early: pd.DataFrame | None = None
    examples: tuple = figure_only()
    topic = "probes"
    csv_tables = ("probes",)
    settings_type = Probes

    def _rows(self) -> list[dict]:
        """Per flattened probe ('<target> at <layer>'): held-out accuracy (interval over
        test levels), majority baseline, selectivity (with the test against the
        control task) and the random network's accuracy. Per spatial probe (same
        condition): its score (arg-max hit rate or mean per-maze AUC, with interval),
        selectivity (tested) and the random network's score; for the cheese cell also
        chance and the mean per-maze AUC (interval). Per early probe ('reaches_cheese at
        <layer>, <what it sees>'): AUC (interval), selectivity (tested), random
        network, log-loss beside the prior's. Then each family's count of
        significant tests."""
        rows = []
        table = _with_kind(self.probes)
        for r in table.itertuples():
            rows += _ROWS[_group(r.kind)](r)
        for family, kinds in _families(table).items():
            rows.append(family_row(family, table.loc[kinds, "q_value"]))
        return rows

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Flattened probes: accuracy, selectivity, baseline and random network by
        layer, per target; spatial probes: arg-max hit rate by layer and example
        probability maps; early probes: AUC by layer from the start and at the
        decision square."""
        from behavstats.plots import sweeps as plots

        table = _with_kind(self.probes)
        kinds = set(table["kind"])
        figures = {}
        if "flattened" in kinds:
            figures["probes"] = lambda: plots.plot_probes(table[table["kind"] == "flattened"])
        if "spatial" in kinds:
            figures["spatial_probes"] = lambda: plots.plot_spatial_probes(
                self.probes, self.params.get("radius", 0))
            if self.examples:
                figures["spatial_probe_maps"] = lambda: plots.plot_spatial_maps(
                    self.examples)
        if "first_observation" in kinds:
            figures["early_decision"] = lambda: plots.plot_early_decision(self.probes)
        return figures


def _with_kind(table: pd.DataFrame) -> pd.DataFrame:
    """The probes table with its kind column (a table saved before the other kinds came
    holds flattened probes only)."""
    return table if "kind" in table else table.assign(kind="flattened")


def _group(kind: str) -> str:
    return kind if kind in ("flattened", "spatial") else "early"


def _families(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each family of the table with the rows (a boolean index) it holds."""
    families = table["kind"].map(FAMILIES)
    return {f: (families == f).to_numpy() for f in dict.fromkeys(families)}


def _flattened_rows(r) -> list[dict]:
    condition = at_layer(r.target, r.layer)
    return [quantity_row("probe_accuracy", condition, r.accuracy, r.ci_low, r.ci_high,
                         r.n_test),
            quantity_row("baseline", condition, r.baseline, n=r.n_test),
            quantity_row("probe_selectivity", condition, r.selectivity, n=r.n_test,
                         p_value=r.p_value, q_value=r.q_value),
            quantity_row("probe_random_network_accuracy", condition,
                         r.random_network_accuracy, n=r.n_test)]


SPATIAL_HEADLINE = {"argmax_hit": "spatial_probe_hit", "auc": "spatial_probe_auc"}
"""The summary quantity of each spatial score."""


def _spatial_rows(r) -> list[dict]:
    condition = at_layer(r.target, r.layer)
    rows = [quantity_row(SPATIAL_HEADLINE[r.score], condition, r.accuracy, r.ci_low,
                         r.ci_high, r.n_test),
            quantity_row("spatial_probe_selectivity", condition, r.selectivity, n=r.n_test,
                         p_value=r.p_value, q_value=r.q_value),
            quantity_row("spatial_probe_random_network", condition,
                         r.random_network_accuracy, n=r.n_test)]
    if r.score == "argmax_hit":
        rows += [quantity_row("chance_hit", condition, r.baseline, n=r.n_test),
                 quantity_row("spatial_probe_auc", condition, r.auc, r.auc_low, r.auc_high,
                              r.n_test)]
    return rows


def early_condition(kind: str, layer: str) -> str:
    """The summary condition of an early-decision probe."""
    seen = early_probes.OBSERVATIONS[kind]
    return f"{early_probes.TARGET} from the {seen}" if not layer else (
        f"{at_layer(early_probes.TARGET, layer)}, {seen}")


def _early_rows(r) -> list[dict]:
    condition = early_condition(r.kind, r.layer)
    return [quantity_row("early_probe_auc", condition, r.auc, r.auc_low, r.auc_high,
                         r.n_test),
            quantity_row("early_probe_selectivity", condition, r.selectivity, n=r.n_test,
                         p_value=r.p_value, q_value=r.q_value),
            *([] if r.kind == "maze_features" else [quantity_row(
                "early_probe_random_network_auc", condition, r.random_network_accuracy,
                n=r.n_test)]),
            quantity_row("early_probe_log_loss", condition, r.log_loss, n=r.n_test),
            quantity_row("early_prior_log_loss", condition, r.baseline_log_loss,
                         n=r.n_test)]


_ROWS = {"flattened": _flattened_rows, "spatial": _spatial_rows, "early": _early_rows}


def run_probes(policy: Policy, levels: Sequence[int] | Sequence[Maze],
               out_dir: str | Path | None = None, *, progress: bool = False,
               batch: int = BATCH, n_jobs: int = -1, **settings: Any) -> ProbeResult:
    """`Probes(**settings).run(policy, levels, out_dir)`: probe every layer (default
    `sweep_layers`: the residual adds and the embedder's output) with each of the
    `kinds` on the levels (seeds or mazes; at least 4), episodes of at most
    `max_steps`; with `out_dir`, also write the result. The probes are fitted in
    `n_jobs` processes (joblib; -1: one per core)."""
    return Probes(**settings).run(policy, levels, out_dir, progress=progress, batch=batch,
                                  n_jobs=n_jobs)


def compute(settings: Probes, policy: Policy, levels: Sequence[int] | Sequence[Maze], *,
            progress: bool = False, batch: int = BATCH, n_jobs: int = -1) -> ProbeResult:
    """The probes (`Probes.run`)."""
    s = settings
    mazes = as_mazes(levels, s.mode)
    if len(mazes) < 4:
        raise NoUsableLevelsError("probes need at least 4 levels (split into train and test)")
    layers = list(s.layers or sweep_layers(policy))
    rand = random_network(policy, s.seed)
    test_mazes = level_split(len(mazes), s.seed)
    episodes = None
    if {"flattened", "first_observation"} & set(s.kinds):
        episodes = episodes_of(policy, mazes, max_steps=s.max_steps, seed=s.seed)
    bar = tqdm(total=_count(s, layers), desc="probes", disable=not progress)
    rows, observations, spatial, early, examples, n_decision = [], None, None, None, (), None
    if "flattened" in s.kinds:
        found, observations = flattened_probes(policy, rand, mazes, episodes, layers, s,
                                               test_mazes, batch=batch, n_jobs=n_jobs,
                                               update=bar.update)
        rows += found
    if {"spatial", "first_observation"} & set(s.kinds):
        start_obs = render([(m, m.mouse) for m in mazes], Observer(batch=batch))
    if "spatial" in s.kinds:
        found, spatial, maps = spatial_probes.spatial_probes(
            policy, rand, mazes, start_obs, layers, s.spatial_targets, test_mazes,
            radius=s.radius, seed=s.seed, n_boot=s.n_boot, batch=batch, n_jobs=n_jobs,
            update=bar.update)
        rows, examples = rows + found, tuple(maps)
    if "first_observation" in s.kinds:
        found, early, n_decision = early_probes.early_probes(
            policy, rand, mazes, episodes["reached_cheese"].to_numpy(), start_obs, layers,
            seed=s.seed, folds=s.folds, n_boot=s.n_boot, batch=batch, n_jobs=n_jobs,
            update=bar.update)
        rows += found
    bar.close()
    probes = pd.DataFrame(rows, columns=list(COLUMNS))
    for kinds in _families(probes).values():
        probes.loc[kinds, "q_value"] = bh_qvalues(probes.loc[kinds, "p_value"].to_numpy())
    params = {**s.to_dict(), "layers": layers, "n_levels": len(mazes),
              "n_decision_mazes": n_decision}
    return ProbeResult(probes, observations, params, spatial, early, examples)


def _count(s: Probes, layers: Sequence[str]) -> int:
    """The probes-table rows a run makes at most (the progress bar's length)."""
    return (len(layers) * len(s.targets) * ("flattened" in s.kinds)
            + len(layers) * len(s.spatial_targets) * ("spatial" in s.kinds)
            + (2 * len(layers) + 1) * ("first_observation" in s.kinds))
