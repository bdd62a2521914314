"""Allow ``python -m skecd``."""

import sys

from .cli import main

sys.exit(main())
