"""Rampart: the component library (`rampart.components`), its Pulumi program (`rampart.config`,
`rampart.program`), the offline engine (`rampart.offline`) and the `rampart` command over it
(`rampart.cli`, one thin module per subcommand in `rampart.commands`)."""
