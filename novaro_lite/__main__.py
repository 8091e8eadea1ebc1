"""Run the CLI with `python -m novaro_lite`."""

from novaro_lite.cli.main import main

main()
