"""Statistical study of what predicts whether the agent goes to the cheese.

Reproduces (and tightens) the published behavioural statistics: the decision-maze data
set, single-feature accuracies, collinearity (VIF), L1 logistic regression over
repeated seeded splits, drop-one / add-one feature selection, sign stability over
random feature subsets and unregularised Logit inference. `run_study` runs it all into a
`StudyResult` (its `write` gives the files of `behavstats regress`).
"""

from behavstats.stats.collinearity import Collinearity
from behavstats.stats.dataset import design_matrix, select_decision_mazes
from behavstats.stats.errors import StudyDataError
from behavstats.stats.l1 import L1LogisticStudy
from behavstats.stats.logit import LogitInference
from behavstats.stats.selection import FeatureSelection
from behavstats.stats.signs import SignStability
from behavstats.stats.single import SingleFeatureAccuracy
from behavstats.stats.study import StudyResult, run_study

__all__ = [
    "Collinearity",
    "FeatureSelection",
    "L1LogisticStudy",
    "LogitInference",
    "SignStability",
    "SingleFeatureAccuracy",
    "StudyDataError",
    "StudyResult",
    "design_matrix",
    "run_study",
    "select_decision_mazes",
]
