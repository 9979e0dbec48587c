"""`python -m repro` entry point."""

from repro.launch import main

main()
