"""The one-command study (`behavstats study`): every analysis of a policy, resumable,
into a folder that `Study` reads back and `behavstats.report` renders as a
self-contained HTML report."""

from behavstats.study.config import StudyConfig, quick_config
from behavstats.study.folder import Study
from behavstats.study.pipeline import PARTS, run_full_study

__all__ = ["PARTS", "Study", "StudyConfig", "quick_config", "run_full_study"]
