"""``python -m sim`` is the ``tipsim`` command."""

import sys

from .cli import main

sys.exit(main())
