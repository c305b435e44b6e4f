"""``python -m adhere.testing [--port P] [--script FILE]``: serve the fake model server."""

from .fake_openai import main

main()
