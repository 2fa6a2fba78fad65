"""Sweeps over a network's layers and channels: activation additions at every layer
(`run_layer_sweep`), single-channel ablations beside channel discovery's tracking
score (`run_ablation`), and linear probes of what each layer encodes
(`run_probes`). Each returns a `behavstats.results.Result`."""

from behavstats.sweeps.ablation import AblationResult, run_ablation
from behavstats.sweeps.layers import LayerSweepResult, run_layer_sweep, sweep_layers
from behavstats.sweeps.probes import ProbeResult, run_probes

__all__ = ["AblationResult", "LayerSweepResult", "ProbeResult", "run_ablation",
           "run_layer_sweep", "run_probes", "sweep_layers"]
