"""`drill serve`: every fake listens on loopback, the env file points clients at them,
and Ctrl-C stops everything cleanly."""

from __future__ import annotations

import os
import shlex
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fakes.vendors import VENDORS


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0]
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env_file = tmp_path / "drill.env"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "serve", "--env-file",
                             str(env_file), "--speed", "60"], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"drill serve did not start: {proc.communicate()}")
        time.sleep(0.05)
    try:
        yield proc, read_env(env_file)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_env_file_points_real_tools_at_every_fake(served: tuple[subprocess.Popen[str],
                                                                dict[str, str]]) -> None:
    """Each variable the real tools read is set, and each base URL answers on loopback."""
    _, env = served
    for key in ("VERCEL_API_URL", "VERCEL_TOKEN", "VERCEL_ORG_ID", "VERCEL_PROJECT_ID",
                "POSTHOG_HOST", "POSTHOG_PROJECT_API_KEY", "POSTHOG_PERSONAL_API_KEY",
                "SENTRY_DSN", "SENTRY_URL", "SENTRY_AUTH_TOKEN", "SENTRY_ORG", "SENTRY_PROJECT",
                "SLACK_WEBHOOK_URL", "STATUSPAGE_API_URL", "STATUSPAGE_API_KEY",
                "STATUSPAGE_PAGE_ID", "PAGERDUTY_EVENTS_URL", "PAGERDUTY_ROUTING_KEY",
                "PAGERDUTY_CA_CERT", "NETLIFY_API_URL", "NETLIFY_AUTH_TOKEN", "NETLIFY_SITE_ID",
                "PULSE_API_URL", "PULSE_API_KEY"):
        assert env.get(key), key
    for key in ("VERCEL_API_URL", "POSTHOG_HOST", "SENTRY_URL", "CONTACTS_APP_URL"):
        assert env[key].startswith("http://127.0.0.1:")
    user = httpx.get(env["VERCEL_API_URL"] + "/v2/user",
                     headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"})
    assert user.status_code == 200 and user.json()["user"]["id"]
    deployments = httpx.get(env["VERCEL_API_URL"] + "/v6/deployments",
                            params={"projectId": env["VERCEL_PROJECT_ID"],
                                    "target": "production"},
                            headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"}).json()
    assert len([d for d in deployments["deployments"] if d["readyState"] == "READY"]) >= 2
    flags = httpx.post(env["POSTHOG_HOST"] + "/flags/?v=4",
                       json={"api_key": env["POSTHOG_PROJECT_API_KEY"], "distinct_id": "u1"})
    assert "contacts_redesign" in flags.json()["flags"]
    assert httpx.get(env["CONTACTS_APP_URL"] + "/health").json()["status"] == "ok"
    site = httpx.get(f"{env['NETLIFY_API_URL']}/api/v1/sites/{env['NETLIFY_SITE_ID']}",
                     headers={"Authorization": f"Bearer {env['NETLIFY_AUTH_TOKEN']}"}).json()
    assert site["published_deploy"]["state"] == "ready"
    contacts = httpx.get(env["PULSE_API_URL"] + "/contacts", params={"limit": 5},
                         headers={"Authorization": f"Bearer {env['PULSE_API_KEY']}"})
    assert contacts.status_code == 200 and len(contacts.json()["data"]) == 5
    slack = httpx.post(env["SLACK_WEBHOOK_URL"], json={"text": "drill"})
    assert (slack.status_code, slack.text) == (200, "ok")
    incident = httpx.post(
        f"{env['STATUSPAGE_API_URL']}/pages/{env['STATUSPAGE_PAGE_ID']}/incidents",
        headers={"Authorization": f"OAuth {env['STATUSPAGE_API_KEY']}"},
        json={"incident": {"name": "Contacts", "status": "investigating"}})
    assert incident.status_code == 201
    assert env["PAGERDUTY_EVENTS_URL"].startswith("https://127.0.0.1:")
    ssl_context = ssl.create_default_context(cafile=env["PAGERDUTY_CA_CERT"])
    event = httpx.post(env["PAGERDUTY_EVENTS_URL"] + "/v2/enqueue", verify=ssl_context,
                       json={"routing_key": env["PAGERDUTY_ROUTING_KEY"],
                             "event_action": "trigger",
                             "payload": {"summary": "drill", "source": "drill",
                                         "severity": "critical"}})
    assert event.status_code == 202 and event.json()["dedup_key"]


def banner_urls(proc: subprocess.Popen[str]) -> dict[str, str]:
    """Service name → base URL, from the banner ``drill serve`` prints once all listen."""
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    for line in proc.stdout:
        if "fault control plane" in line:
            break
        name, _, url = line.strip().partition(" ")
        if url.strip().startswith(("http://", "https://")):
            urls[name] = url.strip()
    return urls


def test_every_registry_vendor_is_served_and_answers(
        served: tuple[subprocess.Popen[str], dict[str, str]]) -> None:
    """Rule: ``drill serve`` serves each entry of ``fakes.vendors.VENDORS`` (Docker too),
    each one answers its ``/_fake/faults`` control plane, over TLS when its descriptor
    says so, and the env file holds the variables its descriptor declares."""
    proc, env = served
    urls = banner_urls(proc)
    assert sorted(urls) == sorted(v.name for v in VENDORS)
    for vendor in VENDORS:
        url = urls[vendor.name]
        assert url.startswith("https://" if vendor.tls else "http://"), vendor.name
        verify = ssl.create_default_context(cafile=env[vendor.ca_cert_env]) \
            if vendor.ca_cert_env else True
        token = {"X-Drill-Token": env["DRILL_FAKE_TOKEN"]}
        assert httpx.get(url + "/_fake/faults", verify=verify,
                         headers=token).status_code == 200, vendor.name
        assert httpx.get(url + "/_fake/faults", verify=verify).status_code == 403, vendor.name


def test_docker_host_reaches_the_seeded_engine(served: tuple[subprocess.Popen[str],
                                                             dict[str, str]]) -> None:
    """Rule: ``DOCKER_HOST`` points the Docker client at the fake Engine, which runs the
    runbook's ``logos-vision-crm:current`` container."""
    from rollout.clients.docker import engine_for

    _, env = served
    assert env["DOCKER_HOST"].startswith("tcp://127.0.0.1:")
    engine = engine_for(env["DOCKER_HOST"])
    with engine.http:
        assert engine.ping()
        images = [c["Image"] for c in engine.list_containers()]
    assert "logos-vision-crm:current" in images


def test_fault_control_plane_is_live(served: tuple[subprocess.Popen[str],
                                                   dict[str, str]]) -> None:
    """An outage set through /_fake/faults makes the vendor API fail in its own shape."""
    _, env = served
    base = env["VERCEL_API_URL"]
    rules = {"rules": [{"operation": "get_auth_user", "error_rate": 1, "status": 503}]}
    token = {"X-Drill-Token": env["DRILL_FAKE_TOKEN"]}
    assert httpx.post(base + "/_fake/faults", json=rules, headers=token).status_code == 200
    auth = {"Authorization": f"Bearer {env['VERCEL_TOKEN']}"}
    failed = httpx.get(base + "/v2/user", headers=auth)
    assert failed.status_code == 503 and "error" in failed.json()


def test_ctrl_c_stops_every_server(served: tuple[subprocess.Popen[str],
                                                 dict[str, str]]) -> None:
    """SIGINT ends `drill serve` with exit 0, no traceback, and the ports close."""
    proc, env = served
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped" in out
    with pytest.raises(httpx.ConnectError):
        httpx.get(env["CONTACTS_APP_URL"] + "/health", timeout=2)


def test_env_file_is_written_atomically(tmp_path: Path) -> None:
    """write_env_file replaces the file in one rename: no partial file is ever visible."""
    from sim.serve import write_env_file

    target = tmp_path / "env"
    write_env_file(target, {"A": "1", "B": "two words"})
    assert read_env(target) == {"A": "1", "B": "two words"}
    assert [p.name for p in tmp_path.iterdir()] == ["env"]
    assert os.access(target, os.R_OK)


def test_cross_site_requests_to_the_control_plane_are_refused(
        served: tuple[subprocess.Popen[str], dict[str, str]]) -> None:
    """Rule (issue 13): over the network, a cross-origin text/plain POST to /_fake/faults,
    a foreign Host (DNS rebinding) and a request without the serve's token are 403 in
    the vendor's shape; no fault is set by any of them."""
    _, env = served
    base, token = env["VERCEL_API_URL"], env["DRILL_FAKE_TOKEN"]
    body = '{"rules": [{"error_rate": 1}]}'
    for headers in ({"Origin": "http://evil.example", "X-Drill-Token": token},
                    {"Host": "evil.example", "X-Drill-Token": token}, {}):
        r = httpx.post(base + "/_fake/faults", content=body,
                       headers={"Content-Type": "text/plain", **headers})
        assert r.status_code == 403 and "error" in r.json(), headers
    rules = httpx.get(base + "/_fake/faults", headers={"X-Drill-Token": token}).json()
    assert rules["rules"] == []


def test_env_file_quoting_survives_a_quote_in_the_folder(tmp_path: Path) -> None:
    """Rule: the env file is shell-quoted: a value holding ``'`` and ``$(…)`` (a folder
    named so) is text when bash sources the file, and no command runs."""
    from sim.serve import write_env_file

    folder = tmp_path / "it's $(touch pwned)"
    cert = str(folder / ".drill-serve" / "cert.pem")
    target = tmp_path / "drill.env"
    write_env_file(target, {"PAGERDUTY_CA_CERT": cert})
    out = subprocess.run(["bash", "-c", f'. {shlex.quote(str(target))} && '
                          'printf %s "$PAGERDUTY_CA_CERT"'], cwd=tmp_path,
                         capture_output=True, text=True, check=True)
    assert out.stdout == cert
    assert not (tmp_path / "pwned").exists()


def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Rule: ``drill serve --port-base P`` with P taken exits 2 with one line on stderr
    naming the address, no traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "sim.cli", "serve", "--port-base",
                               str(port)], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0]


def _primary_address() -> str:
    from sim.serve_host import advertised

    return advertised("0.0.0.0")


@pytest.mark.skipif(_primary_address() == "127.0.0.1", reason="no non-loopback address")
def test_a_non_loopback_host_warns_and_gets_fresh_credentials_and_a_cert(
        tmp_path: Path) -> None:
    """Rule: ``--host`` other than loopback warns on stderr, hands out random credentials
    (not the hard-coded demo ones; the PagerDuty routing key and the Slack webhook URL
    too, and they work), and the TLS certificate covers that host."""
    from cryptography import x509

    from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY

    host = _primary_address()
    env_file = tmp_path / "drill.env"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "serve", "--host", host,
                             "--env-file", str(env_file)], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        env = read_env(env_file)
        assert env["VERCEL_TOKEN"] != "drill_vercel_token"
        assert env["PAGERDUTY_ROUTING_KEY"] != DEFAULT_ROUTING_KEY
        slack = httpx.post(env["SLACK_WEBHOOK_URL"], json={"text": "drill"})
        assert (slack.status_code, slack.text) == (200, "ok")
        assert env["VERCEL_API_URL"].startswith(f"http://{host}:")
        user = httpx.get(env["VERCEL_API_URL"] + "/v2/user",
                         headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"})
        assert user.status_code == 200
        cert = x509.load_pem_x509_certificate(Path(env["PAGERDUTY_CA_CERT"]).read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert host in [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
        ssl_context = ssl.create_default_context(cafile=env["PAGERDUTY_CA_CERT"])
        assert httpx.get(env["PAGERDUTY_EVENTS_URL"] + "/_fake/faults", verify=ssl_context,
                         headers={"X-Drill-Token": env["DRILL_FAKE_TOKEN"]}).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert "WARNING" in err and "not loopback" in err


def test_served_connections_send_without_nagle_delay() -> None:
    """Rule: a connection accepted on a ``bind`` socket has TCP_NODELAY, as asyncio's own
    server sockets do; without it each response's body waited behind its headers for the
    client's delayed ACK (≈40 ms a request, measured by bench/bench_fakes.py)."""
    import asyncio
    import socket

    from sim.serve import bind

    async def nodelay() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listening = bind("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection(*listening.getsockname())
            value = await asyncio.wait_for(accepted, 10)
            writer.close()
        return value

    assert asyncio.run(nodelay()) != 0
