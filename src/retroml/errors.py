"""Errors a user can cause. Every face shows ``str(error)`` as one sentence, never a traceback."""


class RetroMLError(Exception):
    """Base class of errors a user can cause and fix; the message says what to do."""


class NotFoundError(RetroMLError):
    """A run, checkpoint or video that does not exist."""


class ConflictError(RetroMLError):
    """An action that clashes with a run's state (starting a running run, deleting a running one)."""


class InvalidInputError(RetroMLError):
    """A value or file the user gave that cannot be used."""


class DiskFullError(RetroMLError):
    """The disk (or quota) holding a run's files is full; the message names the path and the fix."""


class DamagedCheckpointError(ConflictError):
    """A checkpoint file that does not load (truncated, not a zip, a member failing its checksum)."""
