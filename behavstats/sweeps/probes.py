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

Flattened probes. Observations: one episode per level (`rollout.run_episodes`, paths
recorded; the same episodes label the first-observation probes); up to `per_episode`
distinct cells of its path (the cheese's excluded) are drawn per level
(`Purpose.PATH_CELLS`), and the policy sees the maze with the mouse there. Targets, per
observation: cheese_x, cheese_y, mouse_x, mouse_y (world cells: column from the left,
row from the bottom; the activations are laid out over the world, not the maze),
cheese_in_tr5 (the cheese in the maze's top-right 5x5) and reaches_cheese (the
episode reached the cheese; the policy is Markov in the observation, so the rest of
the episode is an episode from that observation).

Features: a conv layer's (C, H, W) map is pooled along each axis, giving every
channel's row profile (mean over columns) and column profile (mean over rows),
C (H + W) features; the 256 hidden features are used as they are. The pooling is a
fixed linear map, so each probe is still a linear probe of the flattened
activations; it keeps where along each axis a channel is active, which the position
targets need, at 1/16 to 1/8 of the size (the probes run in seconds).

Probe (`probe_common`): standardise (train split only) and multinomial L2 logistic
regression. Levels are split 70/30 (`probe_common.level_split`, the same split for the
spatial probes), so no maze is in both. Reported beside the held-out accuracy
(interval: bootstrap over test levels): the majority baseline of the training labels;
a control task (Hewitt and Liang 2019): within each maze every label value is replaced
by a random draw from the target's labels (`Purpose.CONTROL_LABELS`), so a
maze-constant target gets one random label per maze; selectivity = accuracy - control
accuracy; and the random network's accuracy.

Does the probe beat its control task? p_value: a one-sided sign-flip test
(`stats.multiplicity`) over the test levels of each level's accuracy minus its
control accuracy (levels weigh equally there, where selectivity pools the
observations), against "no better than the control" (a probe worse than its control
is no evidence that the layer encodes the target, so the test looks one way); q_value:
Benjamini-Hochberg within the family of each kind: every layer x target of the run's
flattened probes (`FAMILY`), of its spatial probes, of its early-decision probes.

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
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from behavstats.engine import BATCH
from behavstats.env import Observer, render
from behavstats.experiments import PROBE_TARGETS as TARGETS
from behavstats.experiments import Probes
from behavstats.interventions.effects import N_BOOT, bootstrap_ci
from behavstats.interventions.forward import NoUsableLevelsError, as_mazes
from behavstats.maze import Maze
from behavstats.maze.edits import top_right_region
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.results import Result, figure_only, quantity_row
from behavstats.rollout import PROCGEN_STEP_LIMIT, RolloutConfig, run_episodes
from behavstats.seeding import Purpose, stream
from behavstats.stats.multiplicity import bh_qvalues, family_row, sign_flip_p
from behavstats.sweeps import early_probes, spatial_probes
from behavstats.sweeps.layers import sweep_layers
from behavstats.sweeps.probe_common import (  # noqa: F401  (the names' old home)
    CHUNK,
    MAX_ITER,
    PROBE_C,
    TEST_SHARE,
    control_labels,
    fitted_probe,
    layer_features,
    level_split,
    random_network,
)

COLUMNS = ("layer", "target", "accuracy", "ci_low", "ci_high", "baseline", "control_accuracy",
           "selectivity", "p_value", "q_value", "random_network_accuracy", "n_train", "n_test",
           "kind", "score", "auc", "auc_low", "auc_high", "log_loss", "baseline_log_loss")
"""The `probes` table's columns (module docstring): those of the flattened probes
first, as before the other kinds came."""
FAMILY = "layer x target"
"""The flattened probes' family of tests, as its summary row names it."""
FAMILIES = {"flattened": FAMILY, "spatial": spatial_probes.FAMILY,
            **dict.fromkeys(early_probes.KINDS, early_probes.FAMILY)}
"""Each kind's family of tests."""
NAN = float("nan")


@dataclass(frozen=True, eq=False)
class ProbeResult(Result):
    """What `run_probes` measured.

    probes: one row per kind, layer and target (`COLUMNS`, see the module docstring;
        p_value and q_value: the test that the probe beats its control task).
    observations: the flattened probes' observations, one row each: level, x, y (the
        mouse's maze cell), the `TARGETS` labels and test (in the held-out split).
    spatial: the spatial probes per held-out maze (`spatial_probes.MAZE_COLUMNS`).
    early: the early-decision probes per decision maze (`early_probes.MAZE_COLUMNS`).
    params: the settings (`Probes`; layers as probed), n_levels, n_decision_mazes.
    examples: figure material (`spatial_probes.ExampleMaps`), not saved.
    (A table of a kind not run is None.)
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
    condition = f"{r.target} at {r.layer}"
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
    condition = f"{r.target} at {r.layer}"
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
        f"{early_probes.TARGET} at {layer}, {seen}")


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


def probe_observations(policy: Policy, mazes: Sequence[Maze], *, per_episode: int = 4,
                       max_steps: int = PROCGEN_STEP_LIMIT, seed: int = 0,
                       episodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per observation: maze (index), level, x, y (the mouse's maze cell) and
    the `TARGETS` labels (see the module docstring; reaches_cheese within
    `max_steps`). `episodes`: the mazes' episodes with paths (`episodes_of`), run now
    when not given."""
    if episodes is None:
        episodes = episodes_of(policy, mazes, max_steps=max_steps, seed=seed)
    rows = []
    for i, (maze, episode) in enumerate(zip(mazes, episodes.itertuples(), strict=True)):
        level = level_id(maze, i)
        cells = list(dict.fromkeys(tuple(c) for c in episode.path if tuple(c) != maze.cheese))
        rng = stream(seed, Purpose.PATH_CELLS, level)
        picked = rng.choice(len(cells), size=min(per_episode, len(cells)), replace=False)
        in_tr5 = maze.cheese in set(top_right_region(maze, 5, exclude_mouse=False))
        cheese = maze.world_cell(maze.cheese)
        for k in sorted(picked):
            mouse = maze.world_cell(cells[k])
            rows.append({"maze": i, "level": level, "x": cells[k][0], "y": cells[k][1],
                         "cheese_x": cheese[0], "cheese_y": cheese[1], "mouse_x": mouse[0],
                         "mouse_y": mouse[1], "cheese_in_tr5": in_tr5,
                         "reaches_cheese": bool(episode.reached_cheese)})
    return pd.DataFrame(rows)


def episodes_of(policy: Policy, mazes: Sequence[Maze], *, max_steps: int, seed: int
                ) -> pd.DataFrame:
    """One episode per maze, paths recorded (`rollout.run_episodes`)."""
    config = RolloutConfig(seed=seed, mode=mazes[0].mode, max_steps=max_steps,
                           record_path=True)
    return run_episodes(policy, mazes, config)


def probe_accuracy(features: np.ndarray, labels: np.ndarray, train: np.ndarray,
                   test: np.ndarray) -> np.ndarray:
    """Per test row, whether the probe fitted on the train rows is right."""
    if len(np.unique(labels[train])) < 2:
        return labels[test] == labels[train][0]
    return fitted_probe(features[train], labels[train]).predict(features[test]) == labels[test]


def level_interval(correct: np.ndarray, groups: np.ndarray, seed: int, n_boot: int = N_BOOT
                   ) -> tuple[float, float]:
    """Bootstrap interval of the accuracy over test levels (observations of a level are
    not independent): levels resampled, their observations pooled."""
    frame = pd.DataFrame({"g": groups, "c": correct}).groupby("g")["c"].agg(["sum", "count"])
    hits, counts = frame["sum"].to_numpy(float), frame["count"].to_numpy(float)

    def pooled(draws: np.ndarray, axis: int) -> np.ndarray:
        drawn = draws.astype(int)
        return hits[drawn].sum(axis=axis) / counts[drawn].sum(axis=axis)

    return bootstrap_ci(np.arange(len(hits), dtype=float), statistic=pooled, seed=seed,
                        n_boot=n_boot)


def score_probe(features: np.ndarray, labels: np.ndarray, control: np.ndarray,
                groups: np.ndarray, train: np.ndarray, test: np.ndarray, seed: int,
                n_boot: int = N_BOOT) -> dict[str, float]:
    """accuracy (with its level-bootstrap interval), baseline,
    control_accuracy, selectivity and the p_value of the test that the probe beats its
    control (module docstring) of a probe of `labels` (control task: `control`)
    fitted on the train rows and scored on the test rows."""
    correct = probe_accuracy(features, labels, train, test)
    low, high = level_interval(correct, groups[test], seed, n_boot)
    values, counts = np.unique(labels[train], return_counts=True)
    control_correct = probe_accuracy(features, control, train, test)
    accuracy, control_accuracy = float(correct.mean()), float(control_correct.mean())
    per_level = pd.Series(correct.astype(float) - control_correct).groupby(groups[test]).mean()
    return {"accuracy": accuracy, "ci_low": low, "ci_high": high,
            "baseline": float((labels[test] == values[counts.argmax()]).mean()),
            "control_accuracy": control_accuracy, "selectivity": accuracy - control_accuracy,
            "p_value": sign_flip_p(per_level.to_numpy(), seed=seed, greater=True)}


def _probe_row(layer: str, target: str, real: np.ndarray, rand: np.ndarray,
               labels: np.ndarray, groups: np.ndarray, train: np.ndarray, test: np.ndarray,
               seed: int, n_boot: int) -> dict:
    """The `COLUMNS` row of one layer and target: the probe, its control task and the
    same probe on the random network. One BLAS thread, so the solver's arithmetic (and
    its result) is the same however many jobs run."""
    with threadpool_limits(1):
        control = control_labels(labels, groups, seed, TARGETS.index(target))
        return {"layer": layer, "target": target,
                **score_probe(real, labels, control, groups, train, test, seed, n_boot),
                "random_network_accuracy": float(
                    probe_accuracy(rand, labels, train, test).mean()),
                "n_train": len(train), "n_test": len(test)}


def flattened_probes(policy: Policy, rand: Policy, mazes: Sequence[Maze],
                     episodes: pd.DataFrame, layers: Sequence[str], settings: Probes,
                     test_mazes: np.ndarray, *, batch: int = BATCH, n_jobs: int = -1,
                     update: Callable[[], None] = lambda: None
                     ) -> tuple[list[dict], pd.DataFrame]:
    """The flattened probes (module docstring): probes-table rows and the observations
    table."""
    s = settings
    table = probe_observations(policy, mazes, per_episode=s.per_episode, seed=s.seed,
                               episodes=episodes)
    obs = render([(mazes[m], (x, y)) for m, x, y in table[["maze", "x", "y"]].to_numpy()],
                 Observer(batch=batch))
    groups = table["maze"].to_numpy()
    held_out = test_mazes[groups]
    train, test = np.flatnonzero(~held_out), np.flatnonzero(held_out)
    table["test"] = held_out
    real = layer_features(policy, obs, layers, batch=batch)
    fake = layer_features(rand, obs, layers, batch=batch)
    todo = [(layer, target) for layer in layers for target in s.targets]
    rows = []
    # the fits are independent and deterministic: spread them over the cores
    for row in Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_probe_row)(layer, target, real[layer], fake[layer],
                                table[target].to_numpy(), groups, train, test, s.seed,
                                s.n_boot) for layer, target in todo):
        rows.append({**row, "kind": "flattened", "score": "accuracy"})
        update()
    return rows, table.drop(columns="maze")


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
