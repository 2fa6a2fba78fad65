"""Linear probes: what each layer of `sweep_layers` encodes about the maze.

Observations: one episode per level (`rollout.run_episodes`, paths recorded); up to
`per_episode` distinct cells of its path (the cheese's excluded) are drawn per level
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

Probe: standardise (train split only) and multinomial L2 logistic regression (lbfgs,
C = `PROBE_C`, at most `MAX_ITER` iterations). Levels are split 70/30
(GroupShuffleSplit, `Purpose.PROBE_SPLIT`), so no maze is in both. Reported beside
the held-out accuracy (interval: bootstrap over test levels): the majority baseline
of the training labels; a control task (Hewitt and Liang 2019): within each maze
every label value is replaced by a random draw from the target's labels
(`Purpose.CONTROL_LABELS`), so a maze-constant target gets one random label per
maze; selectivity = accuracy - control accuracy; and the same probe on a randomly
initialised network of the same architecture (`Purpose.RANDOM_NETWORK`).

Does the probe beat its control task? p_value: a one-sided sign-flip test
(`stats.multiplicity`) over the test levels of each level's accuracy minus its
control accuracy (levels weigh equally there, where selectivity pools the
observations), against "no better than the control" (a probe worse than its control
is no evidence that the layer encodes the target, so the test looks one way); q_value:
Benjamini-Hochberg over every layer x target of the run (the family).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from behavstats.engine import BATCH, forward
from behavstats.env import Observer, render
from behavstats.interventions.effects import N_BOOT, bootstrap_ci
from behavstats.interventions.forward import NoUsableLevelsError, as_mazes
from behavstats.maze import Maze
from behavstats.maze.edits import top_right_region
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.results import Result, quantity_row
from behavstats.rollout import PROCGEN_STEP_LIMIT, RolloutConfig, run_episodes
from behavstats.seeding import Purpose, random_state, stream
from behavstats.stats.multiplicity import bh_qvalues, family_row, sign_flip_p
from behavstats.sweeps.layers import sweep_layers
from behavstats.vocabulary import CHEESE_IN_TR5, TOP_RIGHT_REGION, at_layer

TARGETS = ("cheese_x", "cheese_y", "mouse_x", "mouse_y", CHEESE_IN_TR5, "reaches_cheese")
COLUMNS = ("layer", "target", "accuracy", "ci_low", "ci_high", "baseline", "control_accuracy",
           "selectivity", "p_value", "q_value", "random_network_accuracy", "n_train", "n_test")
FAMILY = "layer x target"
"""The probes' family of tests, as its summary row names it."""
PROBE_C = 1.0
MAX_ITER = 200
TEST_SHARE = 0.3
CHUNK = 512
"""Observations forwarded through all layers at a time (bounds the memory)."""


@dataclass(frozen=True, eq=False)
class ProbeResult(Result):
    """What `run_probes` measured.

    probes: one row per layer and target (`COLUMNS`, see the module docstring; p_value
        and q_value: the test that the probe beats its control task).
    observations: one row per observation: level, x, y (the mouse's maze cell), the
        `TARGETS` labels and test (in the held-out split).
    params: layers, targets, per_episode, max_steps, mode, seed, n_boot, n_levels.
    """

    probes: pd.DataFrame
    observations: pd.DataFrame
    params: dict
    topic = "probes"
    csv_tables = ("probes",)

    def _rows(self) -> list[dict]:
        """Per layer and target ('<target> at <layer>'): held-out accuracy (interval over
        test levels), majority baseline, selectivity (with the test against the
        control task) and the random network's accuracy; then how many of the family's
        tests are significant."""
        rows = []
        for r in self.probes.itertuples():
            condition = at_layer(r.target, r.layer)
            rows += [quantity_row("probe_accuracy", condition, r.accuracy, r.ci_low,
                                  r.ci_high, r.n_test),
                     quantity_row("baseline", condition, r.baseline, n=r.n_test),
                     quantity_row("probe_selectivity", condition, r.selectivity, n=r.n_test,
                                  p_value=r.p_value, q_value=r.q_value),
                     quantity_row("probe_random_network_accuracy", condition,
                                  r.random_network_accuracy, n=r.n_test)]
        return [*rows, family_row(FAMILY, self.probes["q_value"])]

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Accuracy, selectivity, baseline and random network by layer, per target."""
        from behavstats.plots.sweeps import plot_probes

        return {"probes": lambda: plot_probes(self.probes)}


def probe_observations(policy: Policy, mazes: Sequence[Maze], *, per_episode: int = 4,
                       max_steps: int = PROCGEN_STEP_LIMIT, seed: int = 0) -> pd.DataFrame:
    """One row per observation: maze (index), level, x, y (the mouse's maze cell) and
    the `TARGETS` labels (see the module docstring; reaches_cheese within
    `max_steps`)."""
    config = RolloutConfig(seed=seed, mode=mazes[0].mode, max_steps=max_steps,
                           record_path=True)
    episodes = run_episodes(policy, mazes, config)
    rows = []
    for i, (maze, episode) in enumerate(zip(mazes, episodes.itertuples(), strict=True)):
        level = level_id(maze, i)
        cells = list(dict.fromkeys(tuple(c) for c in episode.path if tuple(c) != maze.cheese))
        rng = stream(seed, Purpose.PATH_CELLS, level)
        picked = rng.choice(len(cells), size=min(per_episode, len(cells)), replace=False)
        in_tr5 = maze.cheese in set(top_right_region(maze, TOP_RIGHT_REGION,
                                                     exclude_mouse=False))
        cheese = maze.world_cell(maze.cheese)
        for k in sorted(picked):
            mouse = maze.world_cell(cells[k])
            rows.append({"maze": i, "level": level, "x": cells[k][0], "y": cells[k][1],
                         "cheese_x": cheese[0], "cheese_y": cheese[1], "mouse_x": mouse[0],
                         "mouse_y": mouse[1], CHEESE_IN_TR5: in_tr5,
                         "reaches_cheese": bool(episode.reached_cheese)})
    return pd.DataFrame(rows)


def layer_features(policy: Policy, obs: np.ndarray, layers: Sequence[str], *,
                   batch: int = BATCH) -> dict[str, np.ndarray]:
    """Probe features (module docstring) of every layer, in network order, for uint8
    observations; each chunk of observations runs through the network once."""
    parts: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}
    for begin in range(0, len(obs), CHUNK):
        x, start = obs[begin : begin + CHUNK], None
        for layer in layers:
            x = forward(policy, x, start=start, stop=layer, batch=batch)
            start = layer
            pooled = x if x.ndim == 2 else torch.cat([x.mean(3), x.mean(2)], dim=2)
            parts[layer].append(pooled.flatten(1).numpy())
    return {layer: np.concatenate(p) for layer, p in parts.items()}


def control_labels(labels: np.ndarray, mazes: np.ndarray, seed: int, target: int
                   ) -> np.ndarray:
    """Within each maze, every label value replaced by a random draw from `labels`."""
    out = np.empty_like(labels)
    for maze in np.unique(mazes):
        rows = mazes == maze
        rng = stream(seed, Purpose.CONTROL_LABELS, maze, target)
        values = np.unique(labels[rows])
        mapping = dict(zip(values, rng.choice(labels, size=len(values)), strict=True))
        out[rows] = [mapping[v] for v in labels[rows]]
    return out


def probe_accuracy(features: np.ndarray, labels: np.ndarray, train: np.ndarray,
                   test: np.ndarray) -> np.ndarray:
    """Per test row, whether the probe fitted on the train rows is right."""
    if len(np.unique(labels[train])) < 2:
        return labels[test] == labels[train][0]
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=PROBE_C, max_iter=MAX_ITER))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe.fit(features[train], labels[train])
    return probe.predict(features[test]) == labels[test]


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


def random_network(policy: Policy, seed: int) -> Policy:
    """A freshly initialised policy of the same architecture (`Purpose.RANDOM_NETWORK`)."""
    with torch.random.fork_rng():
        torch.manual_seed(random_state(seed, Purpose.RANDOM_NETWORK))
        net = Policy(policy.scale)
    return net.to(memory_format=torch.channels_last).eval()


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


def run_probes(policy: Policy, levels: Sequence[int] | Sequence[Maze],
               out_dir: str | Path | None = None, *, layers: Sequence[str] | None = None,
               targets: Sequence[str] = TARGETS, per_episode: int = 4,
               max_steps: int = PROCGEN_STEP_LIMIT, mode: str = "hard", seed: int = 0,
               n_boot: int = N_BOOT, progress: bool = False, batch: int = BATCH,
               n_jobs: int = -1) -> ProbeResult:
    """Probe every layer (default `sweep_layers`: the residual adds and the embedder's
    output) for each of `targets` on the levels (seeds or mazes; at least 4), episodes
    of at most `max_steps`; with `out_dir`, also write the result. The probes are fitted
    in `n_jobs` processes (joblib; -1: one per core)."""
    mazes = as_mazes(levels, mode)
    if len(mazes) < 4:
        raise NoUsableLevelsError("probes need at least 4 levels (split into train and test)")
    layers = list(layers or sweep_layers(policy))
    table = probe_observations(policy, mazes, per_episode=per_episode, max_steps=max_steps,
                               seed=seed)
    obs = render([(mazes[m], (x, y)) for m, x, y in table[["maze", "x", "y"]].to_numpy()],
                 Observer(batch=batch))
    groups = table["maze"].to_numpy()
    split = GroupShuffleSplit(1, test_size=TEST_SHARE,
                              random_state=random_state(seed, Purpose.PROBE_SPLIT))
    train, test = next(split.split(obs, groups=groups))
    table["test"] = np.isin(np.arange(len(table)), test)
    real = layer_features(policy, obs, layers, batch=batch)
    rand = layer_features(random_network(policy, seed), obs, layers, batch=batch)
    todo = [(layer, target) for layer in layers for target in targets]
    bar = tqdm(total=len(todo), desc="probes", disable=not progress)
    rows = []
    # the fits are independent and deterministic: spread them over the cores
    for row in Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_probe_row)(layer, target, real[layer], rand[layer], table[target].to_numpy(),
                                groups, train, test, seed, n_boot) for layer, target in todo):
        rows.append(row)
        bar.update()
    bar.close()
    params = {"layers": layers, "targets": list(targets), "per_episode": per_episode,
              "max_steps": max_steps, "mode": mode, "seed": seed, "n_boot": n_boot,
              "n_levels": len(mazes)}
    probes = pd.DataFrame(rows, columns=list(COLUMNS))
    probes["q_value"] = bh_qvalues(probes["p_value"])
    result = ProbeResult(probes, table.drop(columns="maze"), params)
    if out_dir is not None:
        result.write(out_dir)
    return result
