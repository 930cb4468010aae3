"""Logging filters (wired in settings.LOGGING)."""

import logging

from django.core.exceptions import BadRequest


class RefusalsOnOneLine(logging.Filter):
    """Log a refused request on one line, without a traceback.

    ``django.request`` logs a ``PermissionDenied`` (403), and a ``BadRequest`` such as a ParamError (400),
    as a warning with the exception's traceback: a dozen lines for an expected answer (a county officer
    opening another county's edit link). This keeps the one line and adds who asked and why it was refused;
    server errors (5xx) keep their traceback.
    """

    def filter(self, record):
        status = getattr(record, "status_code", None)
        if status is None or not 400 <= status < 500 or not record.exc_info:
            return True
        error = record.exc_info[1]
        reason = " ".join(str(error).split())[:200]
        if isinstance(error, BadRequest) and record.msg == "%s: %s" and len(record.args) == 2:
            line = f"Bad request: {record.args[1]}"  # Django puts the (escaped) message first; it is below
        else:
            line = record.getMessage()
        user = _username(getattr(record, "request", None))
        details = [part for part in (f"user={user}" if user else "", reason) if part]
        record.msg = f"{line} ({'; '.join(details)})" if details else line
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


def _username(request):
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous" if user is not None else ""
    return user.get_username()
