"""The one error tree of cxlens.

Every error a user can meet is a ``CxLensError`` with a stable ``code``, a human ``message``, an
HTTP status and optional structured ``data``. Ways in map it exactly once each:

* the JSON API  -> ``{"error": {"code", "message", "data"}}`` with ``http_status``  (web/errors.py)
* the CLI       -> one line on stderr and ``exit_code``                               (cli/__init__.py)

::

    CxLensError (internal_error, 500, exit 1)
    ├── InvalidInput (invalid_input, 400, exit 2)
    │   ├── UnknownFormat (unknown_format)
    │   └── MappingError (invalid_mapping)
    ├── Unauthenticated (unauthenticated, 401, exit 5)
    ├── PayloadTooLarge (payload_too_large, 413, exit 2)
    ├── Overloaded (overloaded, 429, exit 8) — carries ``retry_after`` seconds
    ├── NotFound (not_found, 404, exit 3)
    ├── Conflict (conflict, 409, exit 4)
    ├── PermissionDenied (permission_denied, 403, exit 5)
    ├── ImportFailed (import_failed, 422, exit 6)
    ├── MissingExtra (missing_extra, 501, exit 9) — names the ``pip install 'cxlens[…]'`` to run
    └── WorkspaceError (workspace_error, 503, exit 7)
        ├── WorkspaceBusy (workspace_busy)
        └── MailFailed (mail_failed) — carries ``permanent``
"""

from __future__ import annotations

from typing import Any, ClassVar


class CxLensError(Exception):
    """An unexpected error: please report it. (The base of every error cxlens raises on purpose.)"""

    code: str = "internal_error"  # a subclass's default; an instance may carry a more precise one
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, data: dict[str, Any] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data: dict[str, Any] = data or {}
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "data": self.data}}


class InvalidInput(CxLensError):
    """Bad arguments or values: an option, a filter, a date, a definition."""

    code = "invalid_input"
    http_status = 400
    exit_code = 2


class UnknownFormat(InvalidInput):
    """A file whose format cannot be told from its name; pass ``--file-format``."""

    code = "unknown_format"


class MappingError(InvalidInput):
    """A ``--map`` entry that is not ``source_column=field``, or a ``--mapping`` file that cannot be read."""

    code = "invalid_mapping"


class Unauthenticated(CxLensError):
    """No credentials, or credentials that match nothing (a bad or revoked key)."""

    code = "unauthenticated"
    http_status = 401
    exit_code = 5


class PayloadTooLarge(CxLensError):
    """A request or upload over its size limit (HTTP only)."""

    code = "payload_too_large"
    http_status = 413
    exit_code = 2


class Overloaded(CxLensError):
    """The server is accepting more than it can durably store; the caller should retry later."""

    code = "overloaded"
    http_status = 429
    exit_code = 8

    def __init__(self, message: str, *, retry_after: int = 1, data: dict[str, Any] | None = None) -> None:
        super().__init__(message, data=data)
        self.retry_after = retry_after


class NotFound(CxLensError):
    """No customer, merge, survey, source, user or token matches."""

    code = "not_found"
    http_status = 404
    exit_code = 3


class Conflict(CxLensError):
    """The state does not allow it: merging a customer with itself, undoing a merge twice or out of order, a name already taken, ``demo`` over a non-demo workspace."""

    code = "conflict"
    http_status = 409
    exit_code = 4


class PermissionDenied(CxLensError):
    """The signed-in role does not allow it."""

    code = "permission_denied"
    http_status = 403
    exit_code = 5


class ImportFailed(CxLensError):
    """The input as a whole cannot be imported (unreadable, wrong encoding, --strict with bad rows)."""

    code = "import_failed"
    http_status = 422
    exit_code = 6


class MissingExtra(CxLensError):
    """An optional library is not installed. The message names the extra that brings it
    (``pip install 'cxlens[pandas]'``). 501: this installation lacks the feature; the request is
    not at fault."""

    code = "missing_extra"
    http_status = 501
    exit_code = 9

    def __init__(self, *, feature: str, module: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs the optional library {module}, which is not installed: "
            f"run `pip install 'cxlens[{extra}]'`.",
            data={"module": module, "extra": extra},
        )
        self.extra = extra


class WorkspaceError(CxLensError):
    """The workspace cannot be opened or is not a cxlens workspace."""

    code = "workspace_error"
    http_status = 503
    exit_code = 7


class WorkspaceBusy(WorkspaceError):
    """Another process (usually ``cxlens serve``) holds the workspace file."""

    code = "workspace_busy"


class MailFailed(WorkspaceError):
    """A message could not be handed to the SMTP server. ``permanent``: retrying will not help (the
    server refused the recipient or answered 5xx), unlike a lost connection or a 4xx answer."""

    code = "mail_failed"

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
