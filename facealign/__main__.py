import sys

from facealign.cli.main import main

sys.exit(main())
