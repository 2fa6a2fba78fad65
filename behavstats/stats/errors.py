"""The exception for data the behavioural study cannot use."""

from behavstats.errors import UserError


class StudyDataError(UserError):
    """The table cannot support the study (missing columns, one class only, too few
    rows, perfect separation, ...); the message says what to do about it."""
