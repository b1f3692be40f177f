"""Images a task can pull and that cannot change under it: `image` is in the repository
`image_repository_arn` names, and pinned by digest (or by a tag only in a repository known to
have immutable tags). Refused at plan with both values, whether they are known now or Outputs."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pytest
from components_support import ACCOUNT, IMAGE, REGION, REPOSITORY_ARN, ServiceCase, minimal_args, run_service

from rampart.components.image import check_pullable_image
from rampart.components.web_service import WebServiceArgs

DIGEST = "sha256:" + "b" * 64
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


class ImageCase(ServiceCase):
    """A service given `image`, `image_repository_arn` and `image_tag_mutability` as written (or as Outputs)."""

    def __init__(self, image: Any, repository_arn: Any, mutability: Any = None, as_outputs: bool = False) -> None:
        case = minimal_args()
        super().__init__(case.service, case.environment)
        self.values = (image, repository_arn, mutability)
        self.as_outputs = as_outputs

    def args(self, environment: Any) -> WebServiceArgs:
        image, arn, mutability = self.values
        if self.as_outputs:
            image, arn = pulumi.Output.from_input(image), pulumi.Output.from_input(arn)
            mutability = None if mutability is None else pulumi.Output.from_input(mutability)
        return WebServiceArgs(environment_ref=environment, image=image, image_repository_arn=arn,
                              image_tag_mutability=mutability, **self.service)


ACCEPTED = [
    (IMAGE, REPOSITORY_ARN, None),
    (f"{REGISTRY}/shop:v1.2.3@{DIGEST}", REPOSITORY_ARN, None),            # tag and digest: the digest pins
    (f"{REGISTRY}/shop:v1.2.3", REPOSITORY_ARN, "IMMUTABLE"),             # a tag the repository cannot move
    (f"{REGISTRY}/team/api@{DIGEST}", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/api", None),
]

REFUSED = [
    # (image, repository ARN, mutability, words the message must hold besides both values)
    (f"{REGISTRY}/other@{DIGEST}", REPOSITORY_ARN, None, "is not in the repository"),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/shop@{DIGEST}", REPOSITORY_ARN, None, "is not in the repository"),
    (f"210987654321.dkr.ecr.{REGION}.amazonaws.com/shop@{DIGEST}", REPOSITORY_ARN, None, "is not in the repository"),
    (f"{REGISTRY}/shop:latest", REPOSITORY_ARN, "IMMUTABLE", "moved by every push"),
    (f"{REGISTRY}/shop:Latest", REPOSITORY_ARN, "IMMUTABLE", "moved by every push"),  # in any case
    (f"{REGISTRY}/shop:v1.2.3", REPOSITORY_ARN, None, "not known to have immutable tags"),
    (f"{REGISTRY}/shop:v1.2.3", REPOSITORY_ARN, "MUTABLE", "not known to have immutable tags"),
    (f"{REGISTRY}/shop:v1.2.3", REPOSITORY_ARN, "IMMUTABLE_WITH_EXCLUSION", "not known to have immutable tags"),
    (f"{REGISTRY}/shop", REPOSITORY_ARN, "IMMUTABLE", "no tag and no digest"),
    (f"docker.io/library/shop@{DIGEST}", REPOSITORY_ARN, None, "not an ECR image reference"),
    (IMAGE, f"arn:aws:ecr:{REGION}:{ACCOUNT}:shop", None, "is not in the repository"),
]


@pytest.mark.parametrize("image,arn,mutability", ACCEPTED)
def test_pullable_images_pass(image: str, arn: str, mutability: Optional[str]) -> None:
    check_pullable_image(image, arn, mutability, where="WebService 'shop'")


@pytest.mark.parametrize("image,arn,mutability,why", REFUSED)
def test_unpullable_or_unpinned_images_are_refused_with_both_values(image: str, arn: str, mutability: Optional[str],
                                                                    why: str) -> None:
    with pytest.raises(ValueError) as error:
        check_pullable_image(image, arn, mutability, where="WebService 'shop'")
    message = str(error.value)
    assert image in message and arn in message and why in message and "WebService 'shop'" in message, message


@pytest.mark.parametrize("as_outputs", [False, True], ids=["known-now", "outputs"])
def test_the_service_refuses_at_plan(as_outputs: bool) -> None:
    """Plain values are refused before anything is registered; Outputs where the mock engine (which
    plans) resolves the container definition."""
    image = f"{REGISTRY}/shop:latest"
    with pytest.raises(ValueError) as error:
        run_service(ImageCase(image, f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/other", as_outputs=as_outputs))
    assert image in str(error.value) and "repository/other" in str(error.value), str(error.value)


@pytest.mark.parametrize("as_outputs", [False, True], ids=["known-now", "outputs"])
def test_the_service_takes_a_pinned_image_of_its_repository(as_outputs: bool) -> None:
    plan = run_service(ImageCase(f"{REGISTRY}/shop:v7", REPOSITORY_ARN, "IMMUTABLE", as_outputs=as_outputs))
    assert plan.container()["image"] == f"{REGISTRY}/shop:v7"
