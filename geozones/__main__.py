"""``python -m geozones``: the command line, for environments without the console script."""

from geozones.cli import main

if __name__ == "__main__":
    main()
