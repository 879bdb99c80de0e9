import sys

from .outputs.cli import main

if __name__ == "__main__":
    sys.exit(main())
