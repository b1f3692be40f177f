"""A stack file's image section carries the Image component's own repository lifecycle settings
(`RepositoryLifecycle`, camelCase keys), not renamed copies of them (issue 22)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from rampart.components.image import ImageArgs, RepositoryLifecycle
from rampart.config import ConfigError, ImageConfig, read_stack_values, validate_stack_config

ROOT = Path(__file__).resolve().parents[2]


def dev_values() -> dict[str, Any]:
    return copy.deepcopy(read_stack_values(ROOT, "dev")[1])


def errors_for(values: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        validate_stack_config(values, "Pulumi.dev.yaml")
    return str(info.value)


def test_the_image_section_and_the_component_share_the_lifecycle_model() -> None:
    assert issubclass(ImageConfig, RepositoryLifecycle) and issubclass(ImageArgs, RepositoryLifecycle)
    image = validate_stack_config(dev_values(), "Pulumi.dev.yaml").services["web"].image
    assert image.lifecycle() == {"untagged_expiry_days": 3, "keep_tagged_images": 20}


def test_the_components_bounds_apply_in_the_stack_file_at_the_limit_and_one_past() -> None:
    values = dev_values()
    values["rampart:services"]["web"]["image"]["keepTaggedImages"] = 1000
    validate_stack_config(values, "Pulumi.dev.yaml")
    values["rampart:services"]["web"]["image"]["keepTaggedImages"] = 1001
    assert "rampart:services.web.image.keepTaggedImages: 1001 is not valid" in errors_for(values)


def test_the_old_key_points_to_the_new_one() -> None:
    values = dev_values()
    image = values["rampart:services"]["web"]["image"]
    image["keepImages"] = image.pop("keepTaggedImages")
    assert "rampart:services.web.image.keepImages: unknown key. Did you mean `keepTaggedImages`?" in errors_for(values)
