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
    another order): the success table is the one the evaluation computes itself, and
    the decision behaviour is measured on all the episodes given (the study's 10,000:
    the report reads it from here)."""
    from behavstats.evaluation import decision_behaviour
    from behavstats.rollout import RolloutConfig, level_episodes

    policy = load_policy("default")
    levels = [4, 2, 9, 7]
    computed = evaluate(policy, levels, max_steps=60)
    assert computed.params["decision_episodes"] == len(levels)
    superset = level_episodes(policy, list(range(12))[::-1], RolloutConfig(max_steps=60))
    reused = evaluate(policy, levels, max_steps=60, vanilla=superset)
    pd.testing.assert_frame_equal(reused.success, computed.success)
    pd.testing.assert_frame_equal(reused.decision, decision_behaviour(superset))
    assert reused.params["decision_episodes"] == len(superset)
    share = reused.summary().set_index(["quantity", "condition"]).loc[
        ("decision_share", "vanilla")]
    assert share["n"] == len(superset)
    assert share["estimate"] == reused.decision["n"].iloc[0] / len(superset)
    doctored = superset.copy()
    doctored.loc[doctored["level"] == 4, "reached_cheese"] ^= True  # the rows given are used
    assert not evaluate(policy, levels, max_steps=60, vanilla=doctored).success.equals(
        computed.success)
    # episodes that do not hold every level are not used
    partial = superset[superset["level"] != 9]
    assert evaluate(policy, levels, max_steps=60, vanilla=partial) == computed
