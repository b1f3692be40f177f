"""Entry point the Pulumi CLI runs in a checkout (`python -m pulumi.policy <engine> policy/soc2`): serve the pack.

The same pack as the installed one (`rampart pack-path`); `rampart_soc2` is importable from here.
"""
from rampart_soc2.policy_pack import serve

serve()
