"""Every module here registers its cases on import."""
from . import address, codec, receiver, textheaders  # noqa: F401
