"""Rampart's component library: hardened AWS building blocks for an environment and its web services.

Each component is a Pulumi ComponentResource in its own module with typed args and secure
defaults; they know nothing of stacks or stack files.
"""

from rampart.components.compliance import Compliance, ComplianceArgs, ComplianceSettings, ExistingRecorder
from rampart.components.environment import (
    Environment,
    EnvironmentAlarmSettings,
    EnvironmentArgs,
    EnvironmentRef,
    EnvironmentSettings,
)
from rampart.components.image import Image, ImageArgs, ImageFacts
from rampart.components.ingress import sidecar_proxy
from rampart.components.load_balancer import DomainSettings, LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from rampart.components.monitoring import Monitoring, MonitoringArgs
from rampart.components.network import CreateNetworkArgs, ExistingNetworkArgs, Network, NetworkArgs, NetworkSettings, Subnet
from rampart.components.routing import HealthCheckSettings, RoutingSettings, ServiceRoute
from rampart.components.proxy_config import ProxyConfig
from rampart.components.nginx_conf import PROXY_IMAGE_SOURCES, RenderTarget, render_nginx_conf, write_image_context
from rampart.components.sidecar import ProxySidecar, ProxySidecarArgs
from rampart.components.waf import WafSettings, WebAcl, WebAclArgs
from rampart.components.web_service import (
    AlarmSettings, CanarySettings, ContainerHealthCheck, DeploymentSettings, LinearSettings, ServiceSettings, WebService,
    WebServiceArgs,
)

__all__ = [
    "AlarmSettings",
    "CanarySettings",
    "Compliance",
    "ComplianceArgs",
    "ComplianceSettings",
    "ContainerHealthCheck",
    "CreateNetworkArgs",
    "DeploymentSettings",
    "DomainSettings",
    "Environment",
    "EnvironmentAlarmSettings",
    "EnvironmentArgs",
    "EnvironmentRef",
    "EnvironmentSettings",
    "ExistingNetworkArgs",
    "ExistingRecorder",
    "HealthCheckSettings",
    "Image",
    "ImageArgs",
    "ImageFacts",
    "LinearSettings",
    "LoadBalancer",
    "LoadBalancerArgs",
    "LoadBalancerSettings",
    "Monitoring",
    "MonitoringArgs",
    "Network",
    "NetworkArgs",
    "NetworkSettings",
    "ProxyConfig",
    "ProxySidecar",
    "ProxySidecarArgs",
    "render_nginx_conf",
    "RenderTarget",
    "RoutingSettings",
    "ServiceRoute",
    "ServiceSettings",
    "Subnet",
    "WafSettings",
    "WebAcl",
    "WebAclArgs",
    "WebService",
    "WebServiceArgs",
    "write_image_context",
    "sidecar_proxy",
    "PROXY_IMAGE_SOURCES",
]
