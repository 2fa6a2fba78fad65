"""Flattened probes: what a whole layer encodes about positions and outcomes.

Observations: one episode per level (`rollout.run_episodes`, paths recorded; the same
episodes label the early-decision probes); up to `per_episode`
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
Benjamini-Hochberg over every layer x target of the run's flattened probes (`FAMILY`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from behavstats.engine import BATCH
from behavstats.env import Observer, render
from behavstats.experiments import PROBE_TARGETS as TARGETS
from behavstats.experiments import Probes
from behavstats.interventions.effects import N_BOOT, bootstrap_ci
from behavstats.maze import Maze
from behavstats.maze.edits import top_right_region
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.rollout import PROCGEN_STEP_LIMIT, RolloutConfig, run_episodes
from behavstats.seeding import Purpose, stream
from behavstats.stats.multiplicity import sign_flip_p
from behavstats.sweeps.probe_common import control_labels, fitted_probe, layer_features
from behavstats.vocabulary import CHEESE_IN_TR5, TOP_RIGHT_REGION

KIND = "flattened"
FAMILY = "layer x target"
"""The flattened probes' family of tests, as its summary row names it."""


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
        rows.append({**row, "kind": KIND, "score": "accuracy"})
        update()
    return rows, table.drop(columns="maze")
