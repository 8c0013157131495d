"""followupd.sandbox: a local fake of Google's OAuth, Calendar v3 and Gmail v1 APIs.

It shares no code with the rest of followupd, so that it can witness the product's
behaviour independently. See `Sandbox` for the Python test API; the same operations
are served over HTTP under /_sandbox/.
"""

from .app import Sandbox
from .errors import ApiError

__all__ = ["ApiError", "Sandbox"]
