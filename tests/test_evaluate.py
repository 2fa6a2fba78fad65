"""`evaluate`: reproducible from its seed, the training distribution the policy's own."""

import pandas as pd

from behavstats.evaluate import evaluate
from behavstats.policy import load_policy

LEVELS = range(30)


def _episodes(out_dir) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted(out_dir.rglob("shard-*.parquet"))],
                     ignore_index=True)


def test_evaluation_is_reproducible_from_its_seed(tmp_path):
    policy = load_policy("default")
    runs = {name: evaluate(policy, LEVELS, seed=seed, max_steps=60, out_dir=tmp_path / name)
            for name, seed in (("a", 0), ("b", 0), ("other", 1))}
    assert runs["a"] == runs["b"]
    pd.testing.assert_frame_equal(_episodes(tmp_path / "a"), _episodes(tmp_path / "b"))
    # another seed samples other actions: some episode takes another number of steps
    assert not _episodes(tmp_path / "a")["steps"].equals(_episodes(tmp_path / "other")["steps"])
    assert runs["a"].params["region"] == policy.training_region == 5
