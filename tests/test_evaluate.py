"""`evaluate`: reproducible from its seed, the training distribution the policy's own."""

import pandas as pd

from behavstats.evaluation import evaluate
from behavstats.policy import load_policy

LEVELS = range(30)


def _episodes(out_dir) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted(out_dir.rglob("shard-*.parquet"))],
                     ignore_index=True)


def test_evaluation_is_reproducible_from_its_seed(tmp_path):
    policy = load_policy("default")
    runs = {name: evaluate(policy, LEVELS, seed=seed, max_steps=60, episodes_dir=tmp_path / name)
            for name, seed in (("a", 0), ("b", 0), ("other", 1))}
    assert runs["a"] == runs["b"]
    pd.testing.assert_frame_equal(_episodes(tmp_path / "a"), _episodes(tmp_path / "b"))
    # another seed samples other actions: some episode takes another number of steps
    assert not _episodes(tmp_path / "a")["steps"].equals(_episodes(tmp_path / "other")["steps"])
    assert runs["a"].params["region"] == policy.training_region == 5


def test_vanilla_episodes_already_run_are_reused_not_rerun(tmp_path):
    """The study hands the evaluation its episodes part (a superset of the levels, in
    another order): the result is the one the evaluation computes itself."""
    from behavstats.rollout import RolloutConfig, level_episodes

    policy = load_policy("default")
    levels = [4, 2, 9, 7]
    computed = evaluate(policy, levels, max_steps=60)
    superset = level_episodes(policy, list(range(12))[::-1], RolloutConfig(max_steps=60))
    assert evaluate(policy, levels, max_steps=60, vanilla=superset) == computed
    doctored = superset.copy()
    doctored.loc[doctored["level"] == 4, "reached_cheese"] ^= True  # the rows given are used
    assert evaluate(policy, levels, max_steps=60, vanilla=doctored) != computed
    # episodes that do not hold every level are not used
    partial = superset[superset["level"] != 9]
    assert evaluate(policy, levels, max_steps=60, vanilla=partial) == computed
