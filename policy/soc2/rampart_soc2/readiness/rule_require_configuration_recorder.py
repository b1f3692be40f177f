"""AWS Config rules have a configuration recorder: one in the stack, or one declared to exist elsewhere.

AWS allows one recorder per account and region, and refuses PutConfigRule while there is none. A stack
either creates it (`aws:cfg/recorder:Recorder`) or declares that another owner runs it, by tagging each
rule `rampart-config-recorder` = the recorder's name (Rampart's `Compliance` component does so, and looks
the recorder up at deploy). A data source is not a resource of the plan, so the declaration is the tag.
"""
from __future__ import annotations

from typing import Sequence

from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Violation, stack_findings
from ..common import CONFIG_RECORDER, CONFIG_RULE_RESOURCE, of_type, raw_get
from ..props import UNKNOWN, UnknownValue
from ..vocabulary.tags import CONFIG_RECORDER_TAG as DECLARED_RECORDER_TAG
from ._needs import RECORDER_ERROR

CONFIG_RULE = CONFIG_RULE_RESOURCE
RECORDER = CONFIG_RECORDER


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    recorders = of_type(resources, RECORDER)

    def judge(rule: Resource) -> Outcome:
        if recorders:
            return COMPLIANT
        tags = raw_get(rule, "tags")
        if tags is UNKNOWN:
            raise UnknownValue("tags")
        declared = (tags or {}).get(DECLARED_RECORDER_TAG)
        if isinstance(declared, str) and declared.strip():
            return COMPLIANT
        return Violation(f"Config rule '{rule.name}' has no configuration recorder: none is created in this stack "
                         f"and the rule declares none (tag {DECLARED_RECORDER_TAG}); in an account and region without "
                         f"one, {RECORDER_ERROR}")

    return stack_findings(of_type(resources, CONFIG_RULE), judge)


POLICY = PolicySpec(
    id="aws-config-rule-require-configuration-recorder",
    description="Readiness: every AWS Config rule has a configuration recorder, created in the stack "
                f"(aws:cfg/recorder:Recorder) or declared by the tag {DECLARED_RECORDER_TAG} = its name. "
                f"Prevents: {RECORDER_ERROR}.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC7.1", "CC8.1"),
    remediation="Create the region's recorder in exactly one stack of the account (with its delivery channel), and "
                f"in every other stack tag the Config rules {DECLARED_RECORDER_TAG} = its name (Rampart: `compliance.recorder: {{existing: NAME}}`).",
    reference="https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html",
    resource_types=CONFIG_RULE,
    kind="stack",
    stack_check=stack_check,
    peer="(none: AWS reports it at the first deploy)",
)
