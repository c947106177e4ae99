"""The demo stack: an isolated VPC with an httpbin-compatible backend that needs nothing from the internet."""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import urllib3

from bench.load import free_loopback_port
from local_gateway.cfn import ResolvedTemplate
from local_gateway.demo_backend import make_demo_backend, start_in_thread
from local_gateway.sam_template import load_template
from tools.sync_demo_userdata import SERVER, TEMPLATE, embedded_script

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=15))
OWN_BACKEND = {"BackendUrl": "http://10.0.1.25:8080", "SubnetIds": "subnet-0a,subnet-0b", "SecurityGroupIds": "sg-01"}


def test_the_instance_user_data_carries_the_demo_backend_unchanged() -> None:
    assert embedded_script(TEMPLATE.read_text(encoding="utf-8")) == SERVER.read_text(encoding="utf-8"), (
        "run `make demo-userdata`"
    )


def _python39() -> str:
    """Amazon Linux 2023's Python 3.9. pyenv's shim would obey this project's .python-version, so the
    interpreter is looked up among pyenv's installed versions, then on PATH, and checked."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [*sorted(pyenv_root.glob("versions/3.9.*/bin/python3.9")), shutil.which("python3.9")]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [str(candidate), "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip() == "True":
            return str(candidate)
    pytest.fail("a Python 3.9 is needed to run the demo backend as Amazon Linux 2023 does (pyenv install 3.9)")


@pytest.fixture(scope="module", params=["demo-stack backend (Python 3.9)", "httpbin (make local)"])
def backend_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param.startswith("httpbin"):
        server = make_demo_backend()
        start_in_thread(server)
        yield f"http://127.0.0.1:{server.port}"
        server.shutdown()
        return
    port = free_loopback_port()
    process = subprocess.Popen([_python39(), str(SERVER), "--port", str(port), "--host", "127.0.0.1"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=5)


def test_anything_echoes_method_query_headers_and_bodies(backend_url: str) -> None:
    query = HTTP.request("GET", f"{backend_url}/anything/a/b?q=it%27s&x=1", headers={"X-Test": "ü"}).json()
    as_json = HTTP.request("POST", f"{backend_url}/anything", json={"item": "café"}).json()
    as_form = HTTP.request("POST", f"{backend_url}/anything", fields={"a": "1 & 2"}, encode_multipart=False).json()

    assert (query["method"], query["args"]) == ("GET", {"q": "it's", "x": "1"})
    assert unquote(query["url"]).endswith("/anything/a/b?q=it's&x=1")  # httpbin shows it decoded
    assert (as_json["method"], as_json["json"]) == ("POST", {"item": "café"})
    assert as_form["form"] == {"a": "1 & 2"}


@pytest.mark.parametrize("status", [200, 201, 404, 418, 503])
def test_status_answers_the_asked_status(backend_url: str, status: int) -> None:
    assert HTTP.request("GET", f"{backend_url}/status/{status}").status == status


def test_bytes_cookies_and_redirects_behave_like_httpbin(backend_url: str) -> None:
    data = HTTP.request("GET", f"{backend_url}/bytes/64?seed=1")
    cookie = HTTP.request("GET", f"{backend_url}/cookies/set?session=abc", redirect=False)
    redirect = HTTP.request("GET", f"{backend_url}/redirect-to?url=/anything&status_code=307", redirect=False)

    assert (len(data.data), data.headers["Content-Type"]) == (64, "application/octet-stream")
    assert (cookie.status, cookie.headers["Set-Cookie"].split(";")[0]) == (302, "session=abc")
    assert (redirect.status, redirect.headers["Location"]) == (307, "/anything")


def test_delay_waits_before_answering(backend_url: str) -> None:
    started = time.monotonic()
    response = HTTP.request("GET", f"{backend_url}/delay/1")

    assert response.status == 200
    assert 1.0 <= time.monotonic() - started < 5


def test_drip_spreads_its_bytes_over_the_duration(backend_url: str) -> None:
    started = time.monotonic()
    response = HTTP.request("GET", f"{backend_url}/drip?numbytes=4&duration=1.2&delay=0", preload_content=False)
    arrivals = [time.monotonic() - started for _ in response.stream(1)]

    assert (response.status, response.headers["Content-Length"]) == (200, "4")
    assert len(arrivals) == 4
    assert arrivals[-1] - arrivals[0] > 0.6, "the bytes came at once"


def test_an_undelayed_drip_is_asterisks(backend_url: str) -> None:
    response = HTTP.request("GET", f"{backend_url}/drip?numbytes=20000&duration=0&delay=0&code=203")

    assert (response.status, response.data) == (203, b"*" * 20000)


DEMO_TEMPLATE = PROJECT_ROOT / "demo" / "template.yaml"


def _resources(parameters: dict[str, str]) -> dict[str, Any]:
    return ResolvedTemplate(load_template(), parameters).resources


def _demo_resources() -> dict[str, Any]:
    return ResolvedTemplate(load_template(DEMO_TEMPLATE), {"StackLabel": "private-api-proxy"}).resources


def test_template_yaml_is_the_product_and_the_demo_a_nested_application_only_without_a_backend() -> None:
    demo = _resources({})["Demo"]
    product_types = {resource["Type"] for resource in _resources(OWN_BACKEND).values()}

    assert demo["Type"] == "AWS::Serverless::Application"
    assert demo["Properties"]["Location"] == "demo/template.yaml"
    assert "Demo" not in _resources(OWN_BACKEND)
    assert not product_types & {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::Instance", "AWS::EC2::SecurityGroup"}


def test_the_demo_is_an_isolated_vpc_with_no_route_out() -> None:
    resources = _demo_resources()
    types = {resource["Type"] for resource in resources.values()}

    assert {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::Instance"} <= types
    assert not types & {"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route", "AWS::EC2::EIP"}
    assert all(
        resource["Properties"]["MapPublicIpOnLaunch"] is False
        for resource in resources.values()
        if resource["Type"] == "AWS::EC2::Subnet"
    )
    settings = resources["DemoBackendLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert settings["MetadataOptions"]["HttpTokens"] == "required"
    assert settings["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


def test_the_proxy_may_reach_the_demo_backend_port_and_nothing_else() -> None:
    resources = _demo_resources()
    rules = {
        name: resource["Properties"] for name, resource in resources.items() if "SecurityGroup" in resource["Type"]
    }

    assert rules["DemoProxyToBackend"] == {
        "GroupId": {"Ref": "DemoProxySecurityGroup"},
        "IpProtocol": "tcp",
        "FromPort": 8080,
        "ToPort": 8080,
        "DestinationSecurityGroupId": {"Ref": "DemoBackendSecurityGroup"},
        "Description": "The backend port only",
    }
    assert rules["DemoBackendFromProxy"]["SourceSecurityGroupId"] == {"Ref": "DemoProxySecurityGroup"}
    for group in ("DemoProxySecurityGroup", "DemoBackendSecurityGroup"):
        assert [rule["CidrIp"] for rule in rules[group]["SecurityGroupEgress"]] == ["127.0.0.1/32"]
        assert "SecurityGroupIngress" not in rules[group]
    assert {name for name, resource in resources.items() if resource["Type"] == "AWS::EC2::SecurityGroupEgress"} == {
        "DemoProxyToBackend"
    }
    outputs = load_template(DEMO_TEMPLATE)["Outputs"]
    assert outputs["BackendUrl"]["Value"] == {"Fn::Sub": "http://${DemoBackend.PrivateIp}:8080"}
    assert outputs["ProxySecurityGroupId"]["Value"] == {"Ref": "DemoProxySecurityGroup"}
    function = _resources({})["ProxyFunction"]["Properties"]
    assert function["VpcConfig"] == {
        "SubnetIds": {"Fn::Split": [",", {"Fn::GetAtt": ["Demo", "Outputs.SubnetIds"]}]},
        "SecurityGroupIds": [{"Fn::GetAtt": ["Demo", "Outputs.ProxySecurityGroupId"]}],
    }
    # The Sub spelling of GetAtt, which SAM CLI tolerates in the If's branch that `sam local` does not take.
    assert function["Environment"]["Variables"]["BACKEND_URL"] == {"Fn::Sub": "${Demo.Outputs.BackendUrl}"}


def test_an_own_backend_creates_no_demo_resources_and_uses_the_given_network() -> None:
    resources = _resources(OWN_BACKEND)

    assert not [name for name in resources if name.startswith("Demo")]
    vpc = resources["ProxyFunction"]["Properties"]["VpcConfig"]
    assert vpc["SubnetIds"] == {"Fn::Split": [",", "subnet-0a,subnet-0b"]}
    assert (
        resources["ProxyFunction"]["Properties"]["Environment"]["Variables"]["BACKEND_URL"] == "http://10.0.1.25:8080"
    )


def test_alarms_cover_5xx_rate_latency_errors_and_throttles_and_notify_only_when_asked() -> None:
    quiet = _resources({})
    notifying = _resources({"AlarmEmail": "ops@example.com"})
    alarms = {name for name, resource in quiet.items() if resource["Type"] == "AWS::CloudWatch::Alarm"}

    assert alarms == {"Api5xxRateAlarm", "ApiLatencyP99Alarm", "ProxyErrorsAlarm", "ProxyThrottlesAlarm"}
    assert "AlarmTopic" not in quiet
    assert all("AlarmActions" not in quiet[name]["Properties"] for name in alarms)
    assert all(notifying[name]["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for name in alarms)
    assert notifying["AlarmTopic"]["Properties"]["Subscription"] == [
        {"Protocol": "email", "Endpoint": "ops@example.com"}
    ]
    assert quiet["ApiLatencyP99Alarm"]["Properties"]["ExtendedStatistic"] == "p99"
