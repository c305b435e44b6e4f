"""Built-in checks, one module per family. Importing this package registers them all."""

from . import punctuation  # noqa: F401
