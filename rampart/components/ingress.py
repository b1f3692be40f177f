"""The ingress mode of a service, worked out once: how the load balancer reaches its tasks.

- `DirectIngress` (`ingress: alb`): target group (HTTP) -> the app container's port; the app listens
  on every address and the service's own `health_check` probes it.
- `SidecarIngress` (`ingress: nginx`): target group (HTTPS) -> the Nginx sidecar's TLS port -> the app
  on 127.0.0.1 (not reachable from the load balancer). The load balancer probes HEALTH_CHECK_PATH,
  which nginx answers itself; the sidecar brings its container, volumes, log group, image repository,
  secrets (a brought certificate) and access-log metrics.

`ingress_mode` is the only place that reads the `ingress` setting. `WebService`
(rampart.components.web_service), rampart/program.py and rampart/config.py ask the object it returns
and never test which mode it is (CDK style: the mode is worked out once, behaviour varies by class).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, Optional, TypeVar

import pulumi

from rampart.components._util import StrInput, physical_name
from rampart.components.image import undeclared_volume_findings
from rampart.components.observability import access_log_metric_filters, metric_namespace
from rampart.components.proxy_config import PathAccess, ProxyConfig
from rampart.components.routing import HEALTH_CHECK_PATH, HealthCheckSettings, RoutingSettings
from rampart.components.sidecar import MOUNT_PATHS, PROXY_CONTAINER, ProxySidecar, ProxySidecarArgs

IngressKind = Literal["alb", "nginx"]
APP_CONTAINER = "app"
#: Share of the task the Nginx sidecar reserves (ingress='nginx'); the app gets the rest.
PROXY_CPU_UNITS = 128
PROXY_MEMORY_MIB = 128
#: What the sidecar answers the load balancer's health check with.
SIDECAR_HEALTH_MATCHER = "200"

T = TypeVar("T")


class Ingress(ABC):
    """What differs between the ingress modes. Settings-level answers (`proxy`, `misplaced`, ...) need
    no resources; the deployment-level ones (`container_definitions`, ...) follow `add_sidecar`."""

    kind: ClassVar[IngressKind]
    #: The target group's protocol (and its health check's).
    protocol: ClassVar[Literal["HTTP", "HTTPS"]]
    #: The address the app listens on (its HOST variable).
    app_host: ClassVar[str]
    #: The task's containers, each with its own log group.
    containers: ClassVar[tuple[str, ...]]
    #: Task memory (MiB) the mode's own containers reserve; the app gets the rest.
    reserved_memory_mib: ClassVar[int]

    # --- settings: what the stack file and the args may hold -----------------------------------
    @classmethod
    @abstractmethod
    def of(
        cls, proxy: Optional[ProxyConfig], image: Optional[StrInput], repository_arn: Optional[StrInput]
    ) -> "Ingress":
        """The mode from a service's sidecar-only settings (the settings models refuse misplaced ones)."""

    @property
    def proxy(self) -> Optional[ProxyConfig]:
        """The sidecar's settings (None: the mode has no sidecar)."""
        return None

    @classmethod
    def misplaced(cls, given: Mapping[str, object]) -> list[str]:
        """The names of the sidecar-only settings in `given` that this mode does not take."""
        return []

    @classmethod
    def missing(cls, given: Mapping[str, object]) -> list[str]:
        """The names of the sidecar-only settings in `given` that this mode needs but lacks."""
        return []

    def deployed(
        self, container_port: int, alb_subnet_cidrs: Optional[list[str]], routing: RoutingSettings
    ) -> "Ingress":
        """The mode with the sidecar's settings as deployed (`sidecar_proxy`)."""
        return self

    def lacks_trusted_proxies(self) -> bool:
        """True when the sidecar names no CIDR whose X-Forwarded-For it may believe."""
        return False

    def sidecar_settings(self, what: str) -> ProxyConfig:
        """The sidecar's settings; ValueError naming `what` when the mode has no sidecar."""
        raise ValueError(f"{what} has no sidecar (ingress is {self.kind!r})")

    def for_sidecar(self, make: Callable[[ProxyConfig], T]) -> Optional[T]:
        """`make(the sidecar's settings)`: what a program builds for the sidecar (None: no sidecar)."""
        return None

    def volume_findings(self, declared: Optional[list[str]]) -> list[str]:
        """Mount paths of the mode's own containers that their image does not declare as VOLUMEs."""
        return []

    # --- deployment: what the WebService asks, in the order it asks --------------------------
    @abstractmethod
    def target(self, container_port: int) -> tuple[str, int]:
        """The container and port the load balancer sends requests to."""

    @abstractmethod
    def target_health_check(self, settings: HealthCheckSettings) -> HealthCheckSettings:
        """The target group's health check, from the service's `health_check` settings."""

    def add_sidecar(
        self, name: str, log_groups: Mapping[str, Any], region: pulumi.Input[str],
        app_has_health_check: bool, opts: pulumi.ResourceOptions,
    ) -> Optional[ProxySidecar]:
        """Register the mode's sidecar component (None: there is none)."""
        return None

    def container_definitions(self) -> list[pulumi.Output[dict[str, Any]]]:
        """The ECS container definitions of the mode's own containers (the app's is the service's)."""
        return []

    def task_volumes(self) -> list[dict[str, Any]]:
        """Task volumes the mode's own containers mount."""
        return []

    def repository_arns(self) -> list[StrInput]:
        """ECR repositories, besides the app's, the execution role may pull from."""
        return []

    def secret_arns(self) -> dict[str, StrInput]:
        """ECS `secrets` of the mode's own containers (variable name -> ARN), granted to the execution role."""
        return {}

    def secret_keys(self) -> dict[str, StrInput]:
        """Variable name -> the KMS key of each secret in `secret_arns` (the stack creates none of them)."""
        return {}

    def access_log_metrics(
        self, name: str, log_groups: Mapping[str, Any], parent: pulumi.Resource
    ) -> Optional[str]:
        """Metric filters on the mode's access log; returns their namespace (None: no access log of its own)."""
        return None


class DirectIngress(Ingress):
    """`ingress: alb`: the target group (HTTP) sends to the app container's port."""

    kind = "alb"
    protocol = "HTTP"
    app_host = "0.0.0.0"
    containers = (APP_CONTAINER,)
    reserved_memory_mib = 0

    @classmethod
    def of(
        cls, proxy: Optional[ProxyConfig], image: Optional[StrInput], repository_arn: Optional[StrInput]
    ) -> "DirectIngress":
        return cls()

    @classmethod
    def misplaced(cls, given: Mapping[str, object]) -> list[str]:
        return [name for name, value in given.items() if value is not None]

    def target(self, container_port: int) -> tuple[str, int]:
        return APP_CONTAINER, container_port

    def target_health_check(self, settings: HealthCheckSettings) -> HealthCheckSettings:
        return settings


class SidecarIngress(Ingress):
    """`ingress: nginx`: the target group (HTTPS) sends to the Nginx sidecar, which proxies to the app
    on 127.0.0.1 and answers the load balancer's health check itself."""

    kind = "nginx"
    protocol = "HTTPS"
    app_host = "127.0.0.1"
    containers = (APP_CONTAINER, PROXY_CONTAINER)
    reserved_memory_mib = PROXY_MEMORY_MIB

    def __init__(
        self, proxy: ProxyConfig, image: Optional[StrInput] = None, repository_arn: Optional[StrInput] = None
    ) -> None:
        self._proxy = proxy
        self._image = image
        self._repository_arn = repository_arn
        self._sidecar: Optional[ProxySidecar] = None

    @classmethod
    def of(
        cls, proxy: Optional[ProxyConfig], image: Optional[StrInput], repository_arn: Optional[StrInput]
    ) -> "SidecarIngress":
        """None for `proxy`: the sidecar's defaults."""
        return cls(proxy or ProxyConfig(), image, repository_arn)

    @property
    def proxy(self) -> ProxyConfig:
        return self._proxy

    @classmethod
    def missing(cls, given: Mapping[str, object]) -> list[str]:
        return [name for name, value in given.items() if value is None]

    def deployed(
        self, container_port: int, alb_subnet_cidrs: Optional[list[str]], routing: RoutingSettings
    ) -> "SidecarIngress":
        proxy = sidecar_proxy(self._proxy, container_port, alb_subnet_cidrs, routing)
        return SidecarIngress(proxy, self._image, self._repository_arn)

    def lacks_trusted_proxies(self) -> bool:
        return not self._proxy.trusted_proxy_cidrs

    def sidecar_settings(self, what: str) -> ProxyConfig:
        return self._proxy

    def for_sidecar(self, make: Callable[[ProxyConfig], T]) -> Optional[T]:
        return make(self._proxy)

    def volume_findings(self, declared: Optional[list[str]]) -> list[str]:
        if declared is None:
            return []
        return undeclared_volume_findings(PROXY_CONTAINER, list(MOUNT_PATHS.values()), declared)

    def target(self, container_port: int) -> tuple[str, int]:
        return PROXY_CONTAINER, self._proxy.listen_port

    def target_health_check(self, settings: HealthCheckSettings) -> HealthCheckSettings:
        # The load balancer probes the sidecar, which answers its own health path.
        return settings.model_copy(update={"path": HEALTH_CHECK_PATH, "matcher": SIDECAR_HEALTH_MATCHER})

    def add_sidecar(
        self, name: str, log_groups: Mapping[str, Any], region: pulumi.Input[str],
        app_has_health_check: bool, opts: pulumi.ResourceOptions,
    ) -> ProxySidecar:
        assert self._image is not None  # WebServiceArgs requires proxy_image with ingress='nginx'
        self._sidecar = ProxySidecar(
            f"{name}-proxy",
            ProxySidecarArgs(
                proxy=self._proxy,
                image=self._image,
                app_container_name=APP_CONTAINER,
                log_group_name=log_groups[PROXY_CONTAINER].name,
                region=region,
                cpu=PROXY_CPU_UNITS,
                memory_mib=PROXY_MEMORY_MIB,
                app_has_health_check=app_has_health_check,
            ),
            opts=opts,
        )
        return self._sidecar

    def _added(self) -> ProxySidecar:
        if self._sidecar is None:
            raise RuntimeError("SidecarIngress.add_sidecar registers the sidecar before the task is asked about it")
        return self._sidecar

    def container_definitions(self) -> list[pulumi.Output[dict[str, Any]]]:
        return [self._added().container_definition()]

    def task_volumes(self) -> list[dict[str, Any]]:
        return self._added().task_volumes()

    def repository_arns(self) -> list[StrInput]:
        return [self._repository_arn] if self._repository_arn is not None else []

    def secret_arns(self) -> dict[str, StrInput]:
        return dict(self._added().secret_arns())

    def secret_keys(self) -> dict[str, StrInput]:
        own = self._added().certificate_secrets
        return {} if own is None else {name: own.kms_key_arn for name in self.secret_arns()}

    def access_log_metrics(
        self, name: str, log_groups: Mapping[str, Any], parent: pulumi.Resource
    ) -> str:
        """Metric filters on the sidecar's JSON access log (in alb mode there is no access log of the
        service's own, and its metrics are the load balancer's)."""
        namespace = metric_namespace(physical_name(name, 200))
        access_log_metric_filters(
            name, namespace=namespace, log_group_name=log_groups[PROXY_CONTAINER].name, parent=parent
        )
        return namespace


_MODES: dict[str, type[Ingress]] = {"alb": DirectIngress, "nginx": SidecarIngress}


def ingress_class(kind: IngressKind) -> type[Ingress]:
    """The class of an ingress mode, for questions asked before its settings are checked."""
    return _MODES[kind]


def ingress_mode(
    kind: IngressKind, proxy: Optional[ProxyConfig] = None, *,
    image: Optional[StrInput] = None, repository_arn: Optional[StrInput] = None,
) -> Ingress:
    """The ingress mode of a service: the one place the `ingress` setting is read."""
    return ingress_class(kind).of(proxy, image, repository_arn)


def check_proxy_access(proxy: ProxyConfig) -> None:
    """Refuse sidecar access rules set by hand: they come from the route's, so the ALB and the
    sidecar enforce the same ones."""
    if proxy.access:
        raise ValueError(
            "proxy.access is filled from routing.access; remove it from the proxy settings and restrict the paths "
            "in routing.access, so the ALB and the sidecar enforce the same rules"
        )


def sidecar_proxy(
    proxy: ProxyConfig, container_port: int, alb_subnet_cidrs: Optional[list[str]], routing: RoutingSettings
) -> ProxyConfig:
    """The sidecar's settings for a service: the one place that fills in the upstream port, the
    trusted CIDRs (the environment's ALB subnets unless the settings name others) and the route's
    access control, used to render the proxy image, to deploy the sidecar and by `rampart render-proxy`."""
    check_proxy_access(proxy)
    updates: dict[str, object] = {
        "upstream": proxy.upstream.model_copy(update={"port": container_port}),
        "access": [
            PathAccess(paths=entry.paths, allow_cidrs=entry.allow_cidrs, signed_in=entry.signs_in())
            for entry in routing.access
        ],
    }
    if not proxy.trusted_proxy_cidrs and alb_subnet_cidrs:
        updates["trusted_proxy_cidrs"] = list(alb_subnet_cidrs)
    return ProxyConfig.model_validate({**proxy.model_dump(), **updates})
