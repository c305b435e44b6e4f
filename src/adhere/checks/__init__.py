"""Built-in checks, one module per family. Importing this package registers them all."""

from . import case, format, keywords, language, length, position, punctuation, structure  # noqa: F401
from . import copying, counts, keyword_positions, layout, sentence_shape, tasks, wordplay  # noqa: F401  (IFBench families)
from . import affixes, conversation, labels, markup, scripts  # noqa: F401  (structure, dialogue, answer labels)
