import sys

from mfglearn.cli import main

sys.exit(main())
