"""Activation editing of maze policies, with effect sizes and intervals: the cheese
vector, the top-right vector, channel discovery, retargeting by clamping channels,
and resampling channels from other mazes.

Each experiment is `run_*(policy, levels, out_dir=None, ..., seed=0) -> *Result` (tidy
DataFrames plus a summary dict with bootstrap intervals), `summarise_*` rebuilds the
summary from the per-level rows, and `write_*` writes CSVs and figures. Every forward
pass runs under `policy.hooks(...)`, so the policy is never left modified.
"""

from behavstats.interventions.channels import (
    ChannelResult,
    channel_scores,
    run_channels,
    top_channels,
    tracked_channels,
    write_channels,
)
from behavstats.interventions.cheese import (
    CheeseVectorResult,
    run_cheese_vector,
    summarise_cheese_vector,
    write_cheese_vector,
)
from behavstats.interventions.effects import (
    bootstrap_ci,
    change_summary,
    mean_ci,
    published_change,
    tv_distance,
)
from behavstats.interventions.forward import ChannelError, NoUsableLevelsError
from behavstats.interventions.resample import (
    MaskedReplace,
    ResampleResult,
    run_resample,
    summarise_resample,
    write_resample,
)
from behavstats.interventions.retarget import (
    ClampCells,
    RetargetResult,
    run_retarget,
    summarise_retarget,
    write_retarget,
)
from behavstats.interventions.topright import (
    TopRightResult,
    run_top_right_vector,
    summarise_top_right,
    write_top_right,
)
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
    "ClampCells",
    "MaskedReplace",
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
    "summarise_cheese_vector",
    "summarise_resample",
    "summarise_retarget",
    "summarise_top_right",
    "top_channels",
    "top_right_vectors",
    "tracked_channels",
    "tv_distance",
    "write_channels",
    "write_cheese_vector",
    "write_resample",
    "write_retarget",
    "write_top_right",
]
