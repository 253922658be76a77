"""``python -m collectsim``: the command line, as the ``collectsim`` command."""

import sys

from collectsim.apps.cli import main

sys.exit(main())
