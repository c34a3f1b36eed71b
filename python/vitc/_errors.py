# SPDX-License-Identifier: MIT
"""The exceptions of the package: one VitcError subclass per vitc_status, each
carrying the status code and the library's message. They also derive from the
matching built-in exception (ValueError, OSError, MemoryError, ...) so callers
can catch either. Pure Python: no library calls here."""


class VitcError(Exception):
    """A libvitc call failed. `status` is the vitc_status code, `message` the
    library's message (it names the file and the reason)."""

    status = -1

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InvalidArgumentError(VitcError, ValueError):
    """An argument is impossible (VITC_ERR_INVALID_ARG)."""

    status = 1


class FileError(VitcError, OSError):
    """A file is missing, unreadable or unwritable (VITC_ERR_IO)."""

    status = 2

    def __str__(self):
        # OSError's own __str__ would prefix an errno; the message already says it all.
        return self.message


class FormatError(VitcError, ValueError):
    """Bad safetensors, JSON, image or .npy contents (VITC_ERR_FORMAT)."""

    status = 3


class UnsupportedError(VitcError):
    """Valid input this build cannot handle (VITC_ERR_UNSUPPORTED)."""

    status = 4


class OutOfMemoryError(VitcError, MemoryError):
    """An allocation failed (VITC_ERR_NOMEM)."""

    status = 5


class BackendError(VitcError, RuntimeError):
    """The compute backend failed (VITC_ERR_BACKEND)."""

    status = 6


class SkippedFilesWarning(UserWarning):
    """A directory held files that are not images of a format vitc reads; they
    were left out. The message names them; `files` lists their paths."""

    def __init__(self, message, files=()):
        super().__init__(message)
        self.files = list(files)


_BY_STATUS = {cls.status: cls for cls in (InvalidArgumentError, FileError, FormatError,
                                          UnsupportedError, OutOfMemoryError, BackendError)}


def raise_status(status, message):
    """Raises the exception for a vitc_status; an unknown code gives a VitcError
    whose `status` is that code."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        err = VitcError(message)
        err.status = status
        raise err
    raise cls(message)
