"""``python -m app`` is the ``zhizao`` command."""

from app.cli import main

main()
