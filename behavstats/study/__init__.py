"""The one-command study (`behavstats study`): every analysis of a policy, resumable,
ending in a self-contained HTML report."""

from behavstats.study.config import StudyConfig, quick_config
from behavstats.study.pipeline import PARTS, run_full_study

__all__ = ["PARTS", "StudyConfig", "quick_config", "run_full_study"]
