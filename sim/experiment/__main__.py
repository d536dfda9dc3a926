"""``python -m sim.experiment COMMAND …``: the experiment commands without the rest of govsim."""

import sys

from sim.experiment.cli import main

sys.exit(main())
