"""posed's exception hierarchy and the exit codes systemd acts on.

Every error a user can cause or fix derives from PosedError and carries the
exit code the CLI returns, so `RestartPreventExitStatus=78` can stop systemd
from restarting a daemon whose config is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3  # `posed estimate`: some inputs could not be read; the output holds all the others
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


class PosedError(Exception):
    """Base class for every error posed reports to a user."""

    exit_code: int = EXIT_FAILURE


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file, located by file, line and dotted key."""

    file: str
    line: int | None
    key: str
    message: str

    def __post_init__(self) -> None:
        # Every error check, run and a reload print is one of these: masking the message here
        # masks a password quoted from the config (a URL, a host) wherever it goes.
        from posed.urls import mask_credentials  # deferred: posed.errors imports nothing of posed

        object.__setattr__(self, "message", mask_credentials(self.message))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        key = self.key or "(top level)"
        return f"{where}: {key}: {self.message}"


class ConfigError(PosedError):
    """The config is invalid. Carries every issue found, not only the first."""

    exit_code = EXIT_CONFIG

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class ModelError(PosedError):
    """A model file is missing, corrupt, or not the kind of model expected."""


class ModelOptionError(ModelError):
    """A model option does not suit the model file it is used with (found when the file is read).

    `key` is the option's dotted config key, so `posed check` can point at its line;
    a restart cannot fix it, hence the config exit code.
    """

    exit_code = EXIT_CONFIG

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


class ModelNotFoundError(ModelError):
    """A named model is not in any model directory."""


class BackendError(PosedError):
    """An inference backend failed to load or run a model."""


class BackendUnavailableError(BackendError):
    """A backend or device cannot run on this machine; the message says how to fix it."""


class InferenceFailedError(BackendError):
    """One inference failed in a way the next one may not: the worker counts it, drops the frame,
    reports the camera degraded and retries with back-off, instead of failing."""


class BackendUnreachableError(InferenceFailedError):
    """A remote backend did not answer (down, restarting, timed out). It may come back."""


class BadAnswerError(InferenceFailedError):
    """A backend answered, but not with the model's tensors: a server-side error, a wrong shape or
    type, an empty tensor, or values no network produces (NaN, infinity, beyond +-1e9)."""


class ClosedError(BackendError):
    """A session, camera or client was used after it was closed."""


class CameraError(PosedError):
    """A camera could not be opened or read."""


class MqttError(PosedError):
    """The MQTT client could not be configured or started."""


class InferenceHangError(PosedError):
    """Inference stopped making progress and the restart budget is spent."""


class PreviewError(PosedError):
    """The preview page's web server could not start (port taken, aiohttp missing)."""
