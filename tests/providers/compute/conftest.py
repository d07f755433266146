"""Fixtures for the compute engine tests: a moto server for Auto Scaling and EC2.

Started the way tests/providers/conftest.py starts moto for S3: ``ThreadedMotoServer`` in this
process on a port the OS picks. moto keeps its state per process, so every test names its own
pool (``unique_pool_name``) rather than resetting what other tests (S3's included) rely on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import pytest

from providers.compute.aws import group_name
from providers.compute.pools import Pool

#: What the fake account's clients need: moto takes any credentials, AWS would take none.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"


@dataclass(frozen=True)
class AwsNetwork:
    """What a group needs in the moto account: its endpoint, a subnet and an AMI."""

    endpoint: str
    subnet_id: str
    zone: str
    image_id: str
    clients: dict[str, Any] = field(default_factory=dict, compare=False)

    def client(self, service: str) -> Any:
        """A boto3 client of the fake account, for setting up and inspecting (made once)."""
        import boto3

        if service not in self.clients:
            session = boto3.session.Session(region_name=REGION, **FAKE_CREDENTIALS)
            self.clients[service] = session.client(service, endpoint_url=self.endpoint)
        return self.clients[service]


@pytest.fixture(scope="module")
def moto_aws_endpoint() -> Iterator[str]:
    """Endpoint URL of a moto server (Auto Scaling, EC2 and the rest) on a free local port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="localhost", port=0, verbose=False)
    server.start()
    try:
        _, port = server.get_host_and_port()
        yield f"http://localhost:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aws_network(moto_aws_endpoint: str) -> Iterator[AwsNetwork]:
    """A VPC with one subnet and one of moto's stock AMIs; the VPC is removed afterwards."""
    import boto3

    ec2 = boto3.session.Session(region_name=REGION, **FAKE_CREDENTIALS).client(
        "ec2", endpoint_url=moto_aws_endpoint
    )
    try:
        image_id = stock_image(ec2)
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        zone = f"{REGION}a"
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone=zone)
        subnet_id = subnet["Subnet"]["SubnetId"]
        network = AwsNetwork(moto_aws_endpoint, subnet_id, zone, image_id)
        yield network
        for client in network.clients.values():
            client.close()
        ec2.delete_subnet(SubnetId=subnet_id)
        ec2.delete_vpc(VpcId=vpc)
    finally:
        ec2.close()


def stock_image(ec2: Any) -> str:
    """One of the AMIs moto ships; looked up by name first, as listing all 1300 takes seconds."""
    amazon_linux = [{"Name": "name", "Values": ["amzn2-ami-hvm-*-x86_64-gp2"]}]
    images = ec2.describe_images(Owners=["amazon"], Filters=amazon_linux)["Images"]
    images = images or ec2.describe_images(Owners=["amazon"])["Images"]
    return str(images[0]["ImageId"])


@pytest.fixture
def aws_credentials(s3_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials in the environment for the engine's own clients (boto3's chain), with
    nothing from a developer's AWS setup able to redirect them (tests/providers/conftest.py)."""
    for name in ("AWS_ENDPOINT_URL_AUTO_SCALING", "AWS_ENDPOINT_URL_EC2"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def unique_pool_name() -> str:
    """A pool name no other test uses (moto's state lives as long as the process)."""
    return f"t{uuid.uuid4().hex[:12]}"


MakePool = Callable[..., Pool]


@pytest.fixture
def make_pool(aws_network: AwsNetwork, unique_pool_name: str) -> Iterator[MakePool]:
    """Builds pools on the moto account; their groups and launch templates go afterwards."""
    made: list[Pool] = []

    def build(market: str = "spot", suffix: str = "", **options: str) -> Pool:
        pool = Pool(
            name=unique_pool_name + suffix,
            provider="aws",
            region="us-east-1",
            instance_type="g5.xlarge",
            gpu="A10G",
            gpus=1,
            nvenc=True,
            market=market,
            min_nodes=0,
            max_nodes=3,
            concurrency=2,
            options={
                "endpoint": aws_network.endpoint,
                "image_id": aws_network.image_id,
                "subnets": aws_network.subnet_id,
                **options,
            },
        )
        made.append(pool)
        return pool

    yield build
    autoscaling, ec2 = aws_network.client("autoscaling"), aws_network.client("ec2")
    for pool in made:
        name = group_name(pool)
        if autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
            "AutoScalingGroups"
        ]:
            autoscaling.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
        try:
            ec2.delete_launch_template(LaunchTemplateName=name)
        except botocore.exceptions.ClientError:
            pass  # never made (the test failed before, or used an existing one)
