"""``python -m s2t.cli``: the ``s2t`` command."""

import sys

from s2t.cli import main

sys.exit(main())
