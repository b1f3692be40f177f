"""Rampart's SOC 2 policy pack as an importable package.

`registry.POLICIES` holds one typed record per policy (rampart_soc2.model.PolicySpec); the checks are
framework-neutral. `pulumi_adapter.build_policies()` turns the records into CrossGuard policies for
the pack's `__main__.py`. Importing this package never starts a server.
"""
__version__ = "0.1.0"
