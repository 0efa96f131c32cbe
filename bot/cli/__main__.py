"""`python -m bot.cli`: the tinydesk command."""

import sys

from bot.cli import main

sys.exit(main())
