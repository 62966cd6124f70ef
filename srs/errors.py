"""Domain errors: each becomes one line on stderr at the command-line edge."""


class SrsError(Exception):
    """Base class of every error a person can cause."""


class LogFileError(SrsError):
    """A log file that cannot be read as a study log."""


class ParseError(SrsError):
    """A value in the log or on the command line that cannot be read."""


class ConfigError(SrsError):
    """An unknown configuration key or a bad value."""


class DatabaseError(SrsError):
    """A database that cannot be opened, migrated or written."""


class CardNotFound(SrsError):
    """No card with that id."""


class GradeError(SrsError):
    """A grade that cannot be recorded."""


class NothingToUndo(SrsError):
    """No review recorded through the command line is left to undo."""
