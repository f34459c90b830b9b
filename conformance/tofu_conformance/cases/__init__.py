"""Every module here registers its cases on import."""
from . import address, codec, hostile, lifecycle, receiver, stateful, textheaders  # noqa: F401
