"""Every module here registers its cases on import."""
from . import address, codec, hostile, lifecycle, local, receiver, stateful, textheaders  # noqa: F401
