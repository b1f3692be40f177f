"""A created VPC, zone by zone: each AZ gets one public and one private subnet (same zone, the CIDRs
`subnet_blocks` cuts), each private subnet its own route table, and that table the default route
its NAT mode promises: through the one NAT gateway (in the first AZ's public subnet) with `single`,
through its own AZ's with `perAz`, none with `none`. The public route table goes out through the
internet gateway. Cases at the AZ minimum (2) and at the most zones the mock region offers (3)."""

from __future__ import annotations

import ipaddress

import pytest

from rampart.components.network import CreateNetworkArgs, NetworkSettings, subnet_blocks
from rampart.offline.mock_engine import RegisteredResource
from components_support import Plan, minimal_args, run_service

CASES = [(2, "single"), (3, "single"), (2, "perAz"), (3, "perAz"), (2, "none")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{n}-{nat}" for n, nat in CASES])
def zones(request: pytest.FixtureRequest) -> tuple[CreateNetworkArgs, Plan]:
    az_count, nat = request.param
    create = CreateNetworkArgs(az_count=az_count, nat_gateways=nat)
    return create, run_service(minimal_args(network=NetworkSettings(create=create)))


def _tier(plan: Plan, tier: str) -> list[RegisteredResource]:
    """The tier's subnets in AZ order (`<name>-<tier>-<index>`; the engine records them as they arrive)."""
    subnets = [s for s in plan.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"].get("rampart:tier") == tier]
    return sorted(subnets, key=lambda s: int(s.name.rsplit("-", 1)[1]))


def _by_id(plan: Plan, type_token: str) -> dict[str, RegisteredResource]:
    return {r.outputs["id"]: r for r in plan.of_type(type_token)}


def _default_route(plan: Plan, route_table: RegisteredResource) -> dict | None:
    routes = [r.inputs for r in plan.of_type("aws:ec2/route:Route")
              if r.inputs["routeTableId"] == route_table.outputs["id"] and r.inputs["destinationCidrBlock"] == "0.0.0.0/0"]
    assert len(routes) <= 1, f"{route_table.name} has {len(routes)} default routes"
    return routes[0] if routes else None


def test_one_public_and_one_private_subnet_per_zone(zones: tuple[CreateNetworkArgs, Plan]) -> None:
    create, plan = zones
    public, private = _tier(plan, "public"), _tier(plan, "private")
    public_blocks, private_blocks = subnet_blocks(create)
    assert [s.inputs["cidrBlock"] for s in public] == public_blocks, [s.name for s in public]
    assert [s.inputs["cidrBlock"] for s in private] == private_blocks, [s.name for s in private]
    zones_public = [s.inputs["availabilityZone"] for s in public]
    assert len(set(zones_public)) == create.az_count, f"public subnets span {zones_public}"
    assert [s.inputs["availabilityZone"] for s in private] == zones_public, "a private subnet is not in its public twin's zone"


def test_each_private_subnet_routes_out_as_its_nat_mode_says(zones: tuple[CreateNetworkArgs, Plan]) -> None:
    create, plan = zones
    public_ids = [s.outputs["id"] for s in _tier(plan, "public")]
    tables = _by_id(plan, "aws:ec2/routeTable:RouteTable")
    nats = _by_id(plan, "aws:ec2/natGateway:NatGateway")
    associations = {a.inputs["subnetId"]: tables[a.inputs["routeTableId"]]
                    for a in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")}
    expected_nats = {"none": 0, "single": 1, "perAz": create.az_count}[create.nat_gateways]
    assert len(nats) == expected_nats, f"{create.nat_gateways}: NAT gateways {[n.name for n in nats.values()]}"

    private_tables = [associations[s.outputs["id"]] for s in _tier(plan, "private")]
    assert len({t.urn for t in private_tables}) == create.az_count, "private subnets share a route table"
    for index, table in enumerate(private_tables):
        route = _default_route(plan, table)
        if create.nat_gateways == "none":
            assert route is None, f"{table.name}: a default route with nat_gateways='none'"
            continue
        assert route is not None and route.get("natGatewayId") in nats, f"{table.name}: no default route through a NAT gateway"
        nat_zone = public_ids.index(nats[route["natGatewayId"]].inputs["subnetId"])
        assert nat_zone == (index if create.nat_gateways == "perAz" else 0), f"{table.name} goes out through AZ {nat_zone}'s NAT"

    public_tables = {associations[subnet_id].urn for subnet_id in public_ids}
    assert len(public_tables) == 1, "public subnets are not all on the public route table"
    public_route = _default_route(plan, plan.by_urn(public_tables.pop()))
    igw = plan.one("aws:ec2/internetGateway:InternetGateway")
    assert public_route is not None and public_route.get("gatewayId") == igw.outputs["id"], "public route table: no way to the internet"


@pytest.mark.parametrize("az_count", [2, 6])
def test_subnet_blocks_fit_the_smallest_vpc_at_every_zone_count(az_count: int) -> None:
    """A /24 (the smallest VPC allowed) is cut into 16 /28s: at the most zones (6) the public and
    private subnets take 12 of them, distinct and inside the VPC."""
    create = CreateNetworkArgs(cidr_block="10.1.2.0/24", az_count=az_count)
    public, private = subnet_blocks(create)
    assert (len(public), len(private)) == (az_count, az_count)
    networks = [ipaddress.IPv4Network(b) for b in public + private]
    assert len(set(networks)) == 2 * az_count, f"overlapping blocks {public + private}"
    assert all(n.subnet_of(ipaddress.IPv4Network("10.1.2.0/24")) and n.prefixlen == 28 for n in networks), networks


def test_seven_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="az_count"):
        CreateNetworkArgs(az_count=7)
