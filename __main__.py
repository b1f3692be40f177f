"""Rampart's Pulumi program: the stack's config in, components composed, outputs out."""

from rampart.config import from_pulumi_config
from rampart.program import deploy

deploy(from_pulumi_config())
