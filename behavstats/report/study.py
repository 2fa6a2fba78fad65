"""The old home of the study folder reader, now `behavstats.study.folder` (it belongs
to the study, which the report renders): kept so that old imports keep working."""

from behavstats.study.folder import Study

__all__ = ["Study"]
