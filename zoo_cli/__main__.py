"""`python -m zoo_cli ...` is the `zoo` command."""

import sys

from zoo_cli.main import main

sys.exit(main())
