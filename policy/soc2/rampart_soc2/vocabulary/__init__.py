"""The vocabulary Rampart's component library and its SOC 2 pack share: the words both must spell alike.

What lives here: the tags the components write and the policies read (`tags`), the complete Secrets
Manager ARN (`arns`), the secret detector (`secret_values`), the pack's threshold records with the AWS
value sets that bound them and the TLS policies (`thresholds`), and each control's AWS Config managed
rule (`config_rules`). Everything else of the pack (policies, registry, model, adapter) and everything
of `rampart` outside `rampart.components` (the CLI and the offline engine) stays on its own side.

Why here, inside the pack's folder (`policy/soc2/rampart_soc2/vocabulary`), and not in `rampart`: the
pack must run from its own folder, as `pulumi preview --policy-pack policy/soc2` runs it (the CLI
installs `policy/soc2/requirements.txt` and starts `python -m pulumi.policy` there), so it cannot import
the `rampart` package; the components, installed from the same wheel, can import this one. To keep that
direction cheap, these are plain modules: they import only the standard library and each other, never
another module of `rampart_soc2` or of `rampart`. tests/foundation/test_layers.py reads every module's
imports and holds both sides to it.
"""
