"""Finding the per-bucket settings resources that point at a bucket."""
from __future__ import annotations

from typing import Sequence

from ..common import of_type, refers_to
from ..model import Resource

BUCKET_KEYS = ("bucket", "id", "arn")


def settings_for(bucket: Resource, resources: Sequence[Resource], types: Sequence[str]) -> tuple[list[Resource], bool]:
    """Settings resources of `types` whose `bucket` points at `bucket`, and whether some might (unknown)."""
    found, maybe = [], False
    for s in of_type(resources, types):
        r = refers_to(s, "bucket", bucket, BUCKET_KEYS)
        if r is True:
            found.append(s)
        elif r is None:
            maybe = True
    return found, maybe
