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


class DataError(SrsError):
    """Stored data that breaks the rules (found by `review check`)."""


_DB_ADVICE = (
    # (words in the driver's message, what it means and what to do)
    (("readonly", "read-only"), "database {where} is read-only: nothing was written "
     "(check the permissions of the file and its folder)"),
    (("malformed", "not a database", "disk image", "file is encrypted"),
     "database {where} is damaged ({reason}); run 'review check', or restore a backup "
     "made with 'review export' into a new database"),
    (("disk is full", "no space"), "the disk holding {where} is full: nothing was written; "
     "free some space and try again"),
    (("unable to open", "cannot open"), "cannot open database {where} ({reason}): check that "
     "its folder exists and can be written"),
    (("locked", "busy"), "database {where} is busy ({reason}): nothing was written; "
     "try again"),
    (("disk i/o error",), "reading or writing {where} failed ({reason}): nothing was written; "
     "check the disk, then run 'review check'"),
)


def storage_error(err: BaseException, where: str) -> SrsError | None:
    """One line for a database (sqlite3 or SQLAlchemy) or file-system error, None for others.

    `where` names the database (its file or URL without password).
    """
    import errno

    from srs.i18n import _

    orig = getattr(err, "orig", None) or err
    module = type(orig).__module__.split(".")[0]
    if module in ("sqlite3", "psycopg", "psycopg2", "sqlalchemy"):
        lines = str(orig).strip().splitlines()
        reason = lines[0] if lines else type(orig).__name__
        low = reason.lower()
        for words, message in _DB_ADVICE:
            if any(word in low for word in words):
                return DatabaseError(_(message).format(where=where, reason=reason))
        return DatabaseError(_("database {where}: {reason}").format(where=where, reason=reason))
    if isinstance(err, OSError):
        name = err.filename if err.filename is not None else where
        why = err.strerror or type(err).__name__
        if err.errno == errno.ENOSPC:
            return SrsError(_("the disk is full writing {name}: nothing was written; free "
                              "some space and try again").format(name=name))
        if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return SrsError(_("cannot use {name}: {why}; nothing was written (check the "
                              "permissions of the file and its folder)").format(name=name,
                                                                                why=why))
        return SrsError(_("{name}: {why}").format(name=name, why=why))
    return None
