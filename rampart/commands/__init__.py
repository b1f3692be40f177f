"""The `rampart` subcommands: one thin module each, argparse wiring and output only, over the
offline engine (`rampart.offline`) or `rampart.local`."""
