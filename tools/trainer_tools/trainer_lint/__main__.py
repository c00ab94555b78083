"""`python -m trainer_tools.trainer_lint`: the trainer-lint command."""

import sys

from trainer_tools.trainer_lint.cli import main

sys.exit(main())
