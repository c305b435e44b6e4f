"""Built-in checks, one module per family. Importing this package registers them all."""

from . import (  # noqa: F401  (imported to register their checks)
    affixes,
    case,
    conversation,
    copying,
    counts,
    format,
    keyword_positions,
    keywords,
    labels,
    language,
    layout,
    length,
    markup,
    position,
    punctuation,
    scripts,
    sentence_shape,
    structure,
    tasks,
    wordplay,
)
