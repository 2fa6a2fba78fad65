"""Activation editing of maze policies, with effect sizes and intervals: the cheese
vector, the top-right vector, channel discovery, retargeting by clamping channels,
and resampling channels from other mazes.

Each experiment is `run_*(policy, levels, out_dir=None, ..., seed=0) -> *Result`, a
typed result (`behavstats.results`): tidy DataFrames, `summary()` with bootstrap
intervals and the published figures, `save` / `load`, and `write` (save plus
figures), which `out_dir` calls. Every forward pass runs under `policy.hooks(...)`,
so the policy is never left modified.
"""

from behavstats.interventions.channels import (
    ChannelResult,
    channel_scores,
    run_channels,
    top_channels,
    tracked_channels,
)
from behavstats.interventions.cheese import CheeseVectorResult, run_cheese_vector
from behavstats.interventions.effects import (
    bootstrap_ci,
    change_summary,
    mean_ci,
    published_change,
    tv_distance,
)
from behavstats.interventions.forward import ChannelError, NoUsableLevelsError
from behavstats.interventions.resample import ResampleResult, run_resample
from behavstats.interventions.retarget import RetargetResult, run_retarget
from behavstats.interventions.topright import TopRightResult, run_top_right_vector
from behavstats.interventions.vectors import (
    cheese_vectors,
    corridor_is_empty,
    random_like,
    start_activations,
    top_right_vectors,
)

__all__ = [
    "ChannelError",
    "ChannelResult",
    "CheeseVectorResult",
    "NoUsableLevelsError",
    "ResampleResult",
    "RetargetResult",
    "TopRightResult",
    "bootstrap_ci",
    "change_summary",
    "channel_scores",
    "cheese_vectors",
    "corridor_is_empty",
    "mean_ci",
    "published_change",
    "random_like",
    "run_channels",
    "run_cheese_vector",
    "run_resample",
    "run_retarget",
    "run_top_right_vector",
    "start_activations",
    "top_channels",
    "top_right_vectors",
    "tracked_channels",
    "tv_distance",
]
