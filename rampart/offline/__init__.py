"""Rampart's offline engine: what `rampart plan` and `rampart check` do, without the command line.

- `mock_engine`: runs a Pulumi program under Pulumi's mock engine and records what it registers,
  naming resources as AWS would (`aws_names`) and refusing what AWS refuses at create (`aws_checks`);
- `plan`: a project's stack planned that way (config validated first, referenced stacks planned);
- `analyzer`: runs policy packs as the Pulumi CLI does, over the Analyzer gRPC protocol;
- `state`: a deployed stack's export (`pulumi stack export`) as the packs see it;
- `check`: plan (or export) and packs together, into a `CheckResult` (`result`, which the report reads);
- `report`: the SOC 2 evidence report of a `CheckResult`; `stack_keys`: remediation in stack keys;
- `render_proxy`: a stack's sidecar nginx.conf and image context.

The commands in `rampart.commands` are thin modules over these (argparse wiring and output only).
"""
