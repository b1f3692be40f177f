"""Rampart: the component library (`rampart.components`), its Pulumi program (`rampart.config`,
`rampart.program`), the offline engine (`rampart.offline`) and the `rampart` command over it
(`rampart.cli`, one thin module per subcommand in `rampart.commands`)."""

from rampart import _moved  # noqa: F401  (old module names for rampart.local; see rampart/_moved.py)
