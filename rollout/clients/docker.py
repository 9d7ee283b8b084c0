"""The Docker Engine API client: the calls compose and the docker CLI make.

``DockerEngine`` raises ``VendorError`` (vendor ``docker``) with the daemon's status and
message on an error answer; 304 (already started / stopped) counts as success.
``engine_for`` builds one from a ``DOCKER_HOST`` value (``tcp://`` or ``unix://``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from rollout.clients.errors import VendorError


@dataclass
class DockerEngine:
    """The Docker Engine API calls compose and the CLI make (``api_version`` None: bare paths).

    Every method raises ``VendorError`` (vendor ``docker``) with the daemon's status and
    ``message`` on an error answer; 304 (already started / stopped) counts as success.
    """

    http: httpx.Client
    base_url: str
    api_version: str | None = "1.43"

    def call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        """One API call: the decoded JSON answer, or None when there is no body."""
        response = self.request(method, path, json, **params)
        return response.json() if response.content else None

    def request(self, method: str, path: str, json: Any = None, **params: Any
                ) -> httpx.Response:
        """One API call, the checked response; raises VendorError on an error status."""
        prefix = f"/v{self.api_version}" if self.api_version else ""
        response = self.http.request(method, self.base_url.rstrip("/") + prefix + path,
                                     json=json, params=_params(params))
        _check(response)
        return response

    def ping(self) -> str:
        """The API version the daemon announces (``GET /_ping``, never versioned)."""
        response = self.http.get(self.base_url.rstrip("/") + "/_ping")
        _check(response)
        return str(response.headers.get("api-version", ""))

    def version(self) -> dict[str, Any]:
        return dict(self.call("GET", "/version"))

    def list_containers(self, all: bool = True, labels: list[str] | None = None
                        ) -> list[dict[str, Any]]:
        filters = json.dumps({"label": labels}) if labels else None
        return list(self.call("GET", "/containers/json", all=int(all), filters=filters))

    def create_container(self, name: str, config: Mapping[str, Any]) -> str:
        """Create a container; its id."""
        return str(self.call("POST", "/containers/create", json=dict(config), name=name)["Id"])

    def start_container(self, ref: str) -> None:
        self.call("POST", f"/containers/{ref}/start")

    def stop_container(self, ref: str, timeout: int | None = None) -> None:
        self.call("POST", f"/containers/{ref}/stop", t=timeout)

    def remove_container(self, ref: str, force: bool = False) -> None:
        self.call("DELETE", f"/containers/{ref}", force=int(force) if force else None)

    def inspect_container(self, ref: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/containers/{ref}/json"))

    def pull_image(self, ref: str) -> list[dict[str, Any]]:
        """``POST /images/create``: the progress messages; raises VendorError when the
        daemon refuses or a message carries an error (the stream's way to fail late)."""
        name, tag = _split_ref(ref)
        messages = _messages(self.request("POST", "/images/create", fromImage=name,
                                          tag=tag).text)
        for message in messages:
            if message.get("error") or message.get("errorDetail"):
                detail = message.get("errorDetail") or {}
                raise VendorError("docker", "POST", "/images/create", 500,
                                  str(message.get("error") or detail.get("message")))
        return messages

    def inspect_image(self, ref: str) -> dict[str, Any] | None:
        """The local image, or None while the daemon answers 404 (not pulled yet)."""
        try:
            return dict(self.call("GET", f"/images/{ref}/json"))
        except VendorError as exc:
            if exc.status == 404:
                return None
            raise

    def list_images(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/images/json"))

    def create_network(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        body = {"Name": name, "Driver": "bridge", "Labels": dict(labels or {})}
        return str(self.call("POST", "/networks/create", json=body)["Id"])

    def list_networks(self, names: list[str] | None = None, labels: list[str] | None = None
                      ) -> list[dict[str, Any]]:
        wanted = {k: v for k, v in (("name", names), ("label", labels)) if v}
        return list(self.call("GET", "/networks",
                              filters=json.dumps(wanted) if wanted else None))

    def remove_network(self, ref: str) -> None:
        self.call("DELETE", f"/networks/{ref}")


def engine_for(docker_host: str, api_version: str | None = "1.43",
               timeout: float | None = 60.0) -> DockerEngine:
    """A client for a ``DOCKER_HOST`` value: ``tcp://host:port`` or ``unix:///path``."""
    if docker_host.startswith("unix://"):
        transport = httpx.HTTPTransport(uds=docker_host.removeprefix("unix://"))
        return DockerEngine(httpx.Client(transport=transport, timeout=timeout),
                            "http://docker", api_version)
    url = docker_host.replace("tcp://", "http://", 1)
    return DockerEngine(httpx.Client(timeout=timeout), url, api_version)


def _split_ref(ref: str) -> tuple[str, str]:
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        return ref, "latest"
    return name, tag


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _messages(text: str) -> list[dict[str, Any]]:
    """The JSON messages of a progress stream (newline-delimited or back to back)."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        message, i = decoder.raw_decode(text, i)
        out.append(message if isinstance(message, dict) else {"status": str(message)})
    return out


def _check(response: httpx.Response) -> None:
    """Raise VendorError for an error status; 304 (nothing to do) is not one."""
    if response.is_success or response.status_code == 304:
        return
    try:
        body = response.json()
        message = body.get("message", body) if isinstance(body, dict) else body
    except ValueError:
        message = response.text
    raise VendorError("docker", response.request.method, response.request.url.path,
                      response.status_code, str(message))
