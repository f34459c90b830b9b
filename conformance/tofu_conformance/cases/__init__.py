"""Every module here registers its cases on import."""
from . import address, codec, hostile, lifecycle, receiver, textheaders  # noqa: F401
