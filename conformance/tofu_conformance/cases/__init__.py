"""Every module here registers its cases on import."""
from . import codec  # noqa: F401
