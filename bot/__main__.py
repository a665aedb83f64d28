"""``python -m bot``: see ``bot.main``."""

from .main import main

raise SystemExit(main())
