"""``python -m postroom.cli``: the same command as ``postroom``."""

from postroom.cli.main import app

app()
