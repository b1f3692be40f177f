"""Entry point the Pulumi CLI runs (`python -m pulumi.policy <engine> <this directory>`): serve the pack.

This directory holds no Python package, so running it puts nothing but itself on `sys.path`; every
policy comes from the installed `rampart_soc2` package.
"""
from rampart_soc2.policy_pack import serve

serve()
