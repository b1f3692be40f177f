"""Rampart's component library: hardened AWS building blocks for one web service.

Each component is a Pulumi ComponentResource in its own module with typed args and secure
defaults; they know nothing of stacks or stack files.
"""

# Image: ECR repository + image build (issue 3).
from components.image import Image, ImageArgs

# Service components (issue 4).
from components.load_balancer import HealthCheckSettings, LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from components.monitoring import Monitoring, MonitoringArgs
from components.network import CreateNetworkArgs, ExistingNetworkArgs, Network, NetworkArgs, NetworkSettings
from components.waf import WafSettings, WebAcl, WebAclArgs
from components.web_service import AlarmSettings, ContainerHealthCheck, WebService, WebServiceArgs

__all__ = [
    "AlarmSettings",
    "ContainerHealthCheck",
    "CreateNetworkArgs",
    "ExistingNetworkArgs",
    "HealthCheckSettings",
    "Image",
    "ImageArgs",
    "LoadBalancer",
    "LoadBalancerArgs",
    "LoadBalancerSettings",
    "Monitoring",
    "MonitoringArgs",
    "Network",
    "NetworkArgs",
    "NetworkSettings",
    "WafSettings",
    "WebAcl",
    "WebAclArgs",
    "WebService",
    "WebServiceArgs",
]
