"""Human-readable labels and units of every quantity a result's `summary()` reports,
written once so that every reader (report, CLI) prints the same words, and the
conditions that experiments and figures both spell."""

from __future__ import annotations

from dataclasses import dataclass

from behavstats.vocabulary import P_CHEESE, P_TOPRIGHT, edited, resampled

__all__ = ["QUANTITIES", "Quantity", "edited", "feature_label", "label", "resampled"]


@dataclass(frozen=True)
class Quantity:
    label: str
    unit: str = ""


_CHANGE = {"median_before": "median {}, unedited", "median_after": "median {}, edited",
           "share_decreased": "share of levels where {} fell",
           "share_increased": "share of levels where {} rose",
           "max_increase": "largest rise of {}", "change": "mean change of {}"}
_AT_DSQ = {P_CHEESE: "P(move towards the cheese) at the decision square",
           P_TOPRIGHT: "P(move towards the top-right cell) at the decision square"}

QUANTITIES: dict[str, Quantity] = {
    # evaluation
    "success": Quantity("share of episodes that reached the cheese", "share"),
    "decision_share": Quantity("share of episodes with a decision square and the cheese "
                               "outside the top-right 5x5", "share"),
    "reached_cheese": Quantity("share that reached the cheese", "share"),
    "reached_top_right": Quantity("share that reached the top-right cell", "share"),
    "reached_tr5": Quantity("share that reached the top-right 5x5", "share"),
    # regression
    "log_loss": Quantity("held-out log-loss (lower is better)", "nats per maze"),
    "auc": Quantity("held-out ROC AUC", "share of pairs"),
    "brier": Quantity("held-out Brier score (lower is better)"),
    "accuracy": Quantity("held-out accuracy", "share"),
    "baseline": Quantity("majority baseline accuracy", "share"),
    "baseline_log_loss": Quantity("held-out log-loss of the prior (no feature)",
                                  "nats per maze"),
    "log_loss_vs_all": Quantity("held-out log-loss minus the all-features model's (same "
                                "rows and splits)", "nats per maze"),
    "odds_ratio": Quantity("odds ratio of reaching the cheese per SD (unregularised "
                           "Logit)"),
    "coefficient_difference_lr": Quantity("likelihood-ratio statistic of agent x feature "
                                          "interactions (do the agents' coefficients "
                                          "differ?)", "chi-square"),
    "coefficient_difference_p": Quantity("p-value of the likelihood-ratio test that the "
                                         "agents share their coefficients", "probability"),
    "coefficient_difference_wald_p": Quantity("p-value of the cluster-robust Wald test "
                                              "(clustered by maze) that the agents share "
                                              "their coefficients", "probability"),
    "single_feature_log_loss": Quantity("held-out log-loss of one feature alone",
                                        "nats per maze"),
    "selection_probability": Quantity("stability selection: largest selection probability "
                                      "over the penalty region", "share"),
    "false_selection_bound": Quantity("stability selection: bound on the expected number "
                                      "of falsely selected features", "features"),
    "coefficient": Quantity("L1 logistic coefficient (standardised feature)", "per SD"),
    "single_feature_accuracy": Quantity("held-out accuracy of one feature alone", "share"),
    "vif": Quantity("variance inflation factor"),
    "correlation": Quantity("Pearson correlation"),
    "sign_flip_share": Quantity("share of random subsets whose fit flips the coefficient's "
                                "usual sign", "share"),
    # vector experiments
    **{f"{p}_{k}": Quantity(text.format(where), "probability") for p, where in _AT_DSQ.items()
       for k, text in _CHANGE.items()},
    "p_cheese": Quantity(_AT_DSQ["p_cheese"], "probability"),
    "p_topright": Quantity(_AT_DSQ["p_topright"], "probability"),
    "p_cheese_interaction": Quantity("interaction (both - cheese - top-right + none) of "
                                     + _AT_DSQ["p_cheese"], "probability"),
    "p_topright_interaction": Quantity("interaction (both - cheese - top-right + none) of "
                                       + _AT_DSQ["p_topright"], "probability"),
    "field_tv": Quantity("mean per-cell total-variation distance over the vector field",
                         "probability"),
    "field_published_change": Quantity("published statistic over the vector field "
                                       "(||arrow differences||_F / cells / 2)"),
    "field_toward_tr_change": Quantity("mean change over the field of P(move towards the "
                                       "top-right cell)", "probability"),
    "share_of_cheese_effect_removed": Quantity("share of the cheese's effect on the field "
                                               "that the edit removes", "share"),
    "p_cheese_patched_minus_absent": Quantity("P(cheese) at the decision square, edited "
                                              "minus cheese absent", "probability"),
    # channels and retargeting
    "channel_score": Quantity("cheese-tracking score (mean of arg-max and mass "
                              "correlations)"),
    "argmax_hit": Quantity("share of samples whose arg-max lies at the cheese cell",
                           "share"),
    "chance_hit": Quantity("arg-max hit rate by chance", "share"),
    "tracked_channels": Quantity("channels whose score reaches the threshold", "channels"),
    "p_path": Quantity("P(follow the shortest path to the target square), geometric mean "
                       "over its steps", "probability"),
    "p_path_ratio": Quantity("P(path), edited / unedited (ratio of level means)", "ratio"),
    "p_path_difference": Quantity("P(path), difference between conditions", "probability"),
    "spearman_p_path_vs_distance": Quantity("Spearman correlation of P(path) with the "
                                            "distance to the path to the top-right"),
    # probes
    "probe_accuracy": Quantity("held-out accuracy of a linear probe", "share"),
    "probe_selectivity": Quantity("probe accuracy minus its control task's accuracy",
                                  "share"),
    "probe_random_network_accuracy": Quantity("held-out accuracy of the same probe on a "
                                              "randomly initialised network", "share"),
    "spatial_probe_hit": Quantity("share of held-out mazes whose spatial probe rates a cell "
                                  "at the cheese highest", "share"),
    "spatial_probe_auc": Quantity("mean over held-out mazes of the spatial probe's AUC of "
                                  "the maze's cells", "share of pairs"),
    "spatial_probe_selectivity": Quantity("spatial probe's score minus its control task's "
                                          "(a random cell as the cheese)"),
    "spatial_probe_random_network": Quantity("the same spatial probe's score on a randomly "
                                             "initialised network"),
    "early_probe_auc": Quantity("cross-fitted AUC of a probe of whether the episode reaches "
                                "the cheese", "share of pairs"),
    "early_probe_selectivity": Quantity("early-decision probe's AUC minus its control "
                                        "task's", "share of pairs"),
    "early_probe_random_network_auc": Quantity("the same early-decision probe's AUC on a "
                                               "randomly initialised network",
                                               "share of pairs"),
    "early_probe_log_loss": Quantity("cross-fitted log-loss of the early-decision probe "
                                     "(lower is better)", "nats per maze"),
    "early_prior_log_loss": Quantity("cross-fitted log-loss of the training folds' share "
                                     "that reached the cheese", "nats per maze"),
    # resampling
    "tv": Quantity("mean per-cell total-variation distance, resampled vs original",
                   "probability"),
    "published_change": Quantity("published statistic (||arrow differences||_F / cells / 2)"),
    "tv_difference": Quantity("paired difference of the mean TV distance", "probability"),
    # maps: integrated gradients and value maps (`behavstats.maps`)
    "output_difference": Quantity("target at the observation minus at the baseline "
                                  "(decision square)"),
    "completeness_gap": Quantity("largest |sum of attributions - output difference| over "
                                 "the levels"),
    "within_tolerance": Quantity("share of levels whose completeness gap met the "
                                 "tolerance", "share"),
    "integration_steps": Quantity("most integration steps any level needed", "steps"),
    "cheese_share": Quantity("share of absolute attribution within one cell of the "
                             "cheese", "share"),
    "channel_attribution": Quantity("mean attribution to one channel (sum over its cells)"),
    "value": Quantity("mean value estimate over the free cells of a maze"),
    "value_change": Quantity("change of the mean value estimate over the free cells"),
    "value_spearman_steps_cheese": Quantity("Spearman correlation over a maze's cells of "
                                            "value with steps to the cheese"),
    "value_spearman_steps_top_right": Quantity("Spearman correlation over a maze's cells "
                                               "of value with steps to the top-right cell"),
    # activation patching (`maps.patching`)
    "restoration": Quantity("normalised restoration by patching, (patched - corrupted) / "
                            "(clean - corrupted) (noising: (clean - patched) / (clean - "
                            "corrupted))", "share of the difference"),
    "cell_mass_near_cheese": Quantity("share of the cell map's positive restoration within "
                                      "a cell of a cheese", "share"),
    "cell_share_near_cheese": Quantity("share of the map's cells within a cell of a cheese "
                                       "(the mass by chance)", "share"),
    "levels_below_floor": Quantity("levels whose clean and corrupted runs differ by less "
                                   "than the floor (left out)", "levels"),
    "clean_minus_corrupted": Quantity("clean minus corrupted value of the decision-square "
                                      "quantity"),
    # multiplicity (`stats.multiplicity.family_row`; n: the tests made)
    "significant_tests": Quantity("tests of a family significant at q <= 0.05 "
                                  "(Benjamini-Hochberg)", "tests"),
}


TARGET_WORDS = {"p_cheese": "P(towards cheese)",
                "logit_diff": "log P(cheese move) − log P(top-right move)"}
"""The decision-square targets (`vocabulary.DECISION_TARGETS`) in a reader's words."""
BASELINE_WORDS = {"cheese_removed": "against the maze without cheese",
                  "blank": "against the open maze (no walls, no cheese)"}
"""The attribution baselines in a reader's words."""


def label(quantity: str) -> str:
    """The quantity's label, with its unit in brackets when it has one."""
    known = QUANTITIES[quantity]
    return f"{known.label} [{known.unit}]" if known.unit else known.label


_METRICS = {"euc": "Euclidean distance", "taxi": "taxicab distance",
            "steps": "path distance (steps)"}
_ENDS = {"cheese_dsq": "decision square → cheese", "cheese_tr": "cheese → top-right cell",
         "dsq_tr": "decision square → top-right cell",
         "cheese_tr5": "cheese → top-right 5x5", "dsq_tr5": "decision square → top-right 5x5"}


def feature_label(feature: str) -> str:
    """A regression feature in words: 'euc_cheese_dsq' -> 'Euclidean distance, decision
    square → cheese'; 'cheese_norm' -> 'distance of the cheese from the world's corner'."""
    if feature == "cheese_norm":
        return "distance of the cheese from the world's bottom-left corner"
    metric, _, ends = feature.partition("_")
    return f"{_METRICS[metric]}, {_ENDS[ends]}"
