"""The `backend:` section of a config with `type: kserve`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from posed.backend import BackendConfig
from posed.regular_files import MAX_PEM_BYTES, MAX_SECRET_BYTES, file_problem, read_regular
from posed.strict import ConfigPath, StrictModel

Role = Literal["main", "detector", "landmarks"]
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class ServedModel(StrictModel):
    """Which of the server's models serves one of posed's model roles."""

    name: str = Field(
        min_length=1, max_length=256, description="The model's name on the server, up to 256 characters."
    )
    version: str = Field(
        "", max_length=64, description="The model version, up to 64 characters; empty: the server's choice."
    )


class KServeConfig(BackendConfig):
    type: Literal["kserve"] = Field(description="The remote backend: an Open Inference Protocol server.")
    url: str = Field(
        min_length=3,
        max_length=512,
        description="The server, host:port (e.g. inference.local:8001 for gRPC, :8000 for HTTP), up to 512 "
        "characters; no scheme: TLS is `tls: true`.",
    )
    protocol: Literal["grpc", "http"] = Field("grpc", description="gRPC (default) or HTTP/REST.")
    http_binary: bool = Field(
        True,
        description="HTTP only: send tensors with the protocol's binary tensor extension (Triton, OVMS). "
        "false sends JSON arrays, for servers without it (MLServer's REST); gRPC is always binary.",
    )
    models: dict[Role, ServedModel] = Field(
        default_factory=dict,
        description="Server model per role (main: PoseNet; detector, landmarks: BlazePose). A role not "
        "listed uses the model file's name without .tflite, e.g. pose_landmark_full, latest version.",
    )
    timeout: float = Field(
        5.0, ge=0.05, le=300, description="Seconds one inference request may take, 0.05 to 300."
    )
    connect_timeout: float = Field(
        5.0, ge=0.05, le=300, description="Seconds the readiness and metadata checks may take, 0.05 to 300."
    )
    keepalive: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="Seconds between gRPC keepalive pings on an idle connection, 1 to 3600.",
    )
    tls: bool = Field(False, description="Connect with TLS (https for HTTP).")
    ca_file: ConfigPath | None = Field(
        None, description="CA bundle for the server's certificate (TLS); a regular file of at most 1 MiB."
    )
    cert_file: ConfigPath | None = Field(
        None, description="Client certificate for mutual TLS; a regular file of at most 1 MiB."
    )
    key_file: ConfigPath | None = Field(
        None, description="Client key for mutual TLS; a regular file of at most 1 MiB."
    )
    token_env: str | None = Field(
        None,
        max_length=128,
        pattern=ENV_NAME,
        description="Environment variable holding a bearer token (Authorization: Bearer ...), up to "
        "128 characters; the token itself never goes in the config.",
    )
    token_file: ConfigPath | None = Field(
        None,
        description="File holding a bearer token, instead of token_env; a regular file of at most 64 KiB.",
    )
    api_key_header: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[A-Za-z0-9-]+$",
        description="Header name for an API key (e.g. x-api-key), up to 64 characters; its value comes "
        "from api_key_env.",
    )
    api_key_env: str | None = Field(
        None, max_length=128, pattern=ENV_NAME, description="Environment variable holding the API key."
    )

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: str) -> str:
        # They would be printed in every connection message; headers carry them instead.
        if "@" in url:
            raise ValueError(
                "credentials do not go in `url`: use token_env or token_file (a bearer token), "
                "or api_key_header with api_key_env"
            )
        return url

    @model_validator(mode="after")
    def _pairs(self) -> KServeConfig:
        if self.token_env is not None and self.token_file is not None:
            raise ValueError("give token_env or token_file, not both")
        if (self.api_key_header is None) != (self.api_key_env is None):
            raise ValueError("api_key_header and api_key_env go together")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        if not self.tls and any(f is not None for f in (self.ca_file, self.cert_file, self.key_file)):
            raise ValueError("ca_file, cert_file and key_file need `tls: true`")
        return self

    def served(self, role: str, model_path: Path) -> ServedModel:
        """The server model for `role`: as configured, else named after the file posed opens.

        For a Coral PoseNet file with the clipping quantization that is posed's corrected
        copy (`<name>.corrected-<sha>`): the server must run the same bytes, because the
        output quantization decides the values the model's last op writes.
        """
        configured = self.models.get(role)  # type: ignore[call-overload]
        return configured if configured is not None else ServedModel(name=model_path.stem)

    def unreadable_files(self) -> list[str]:
        """Why a TLS file must not be handed to gRPC or OpenSSL (a FIFO, a device, too large)."""
        files = (("ca_file", self.ca_file), ("cert_file", self.cert_file), ("key_file", self.key_file))
        return [
            f"{key}: cannot read {path}: {problem}"
            for key, path in files
            if path is not None and (problem := file_problem(path, MAX_PEM_BYTES)) is not None
        ]

    def headers(self) -> dict[str, str]:
        """Request headers with the credentials, read now from the environment or the token file."""
        headers: dict[str, str] = {}
        token = None
        if self.token_env is not None:
            token = os.environ.get(self.token_env)
            if not token:
                raise ValueError(f"token_env: the environment variable {self.token_env} is not set")
        elif self.token_file is not None:
            token = read_regular(self.token_file, MAX_SECRET_BYTES).decode("utf-8").strip()
        if token:
            headers["authorization"] = f"Bearer {token}"
        if self.api_key_header is not None and self.api_key_env is not None:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ValueError(f"api_key_env: the environment variable {self.api_key_env} is not set")
            headers[self.api_key_header.lower()] = key
        return headers
