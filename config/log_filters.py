"""Logging filters, importable before Django's apps are ready (logging is configured first)."""

import logging
from typing import Any


class ClientErrorsWithoutTraceback(logging.Filter):
    """Log a refused or missing page (4xx) as one line: a traceback would only hide real errors.

    Django logs 403s with the PermissionDenied that caused them attached.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status: Any = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
