"""Train the Rasa model when its inputs change, and run the whole stack.

`make run` uses this to start the Rasa server (.venv-rasa), the action server
(rasa-sdk in .venv) and the FastAPI gateway, wait until each answers its health
check, print the URLs, and stop all of them on Ctrl-C. The integration tests start
the same processes through `Stack`, on free ports.

    python scripts/stack.py train     # train only if bot/ inputs changed
    python scripts/stack.py up        # train if needed, start everything, wait
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BOT_DIR = ROOT / "bot"
MODELS_DIR = BOT_DIR / "models"
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
# The custom NLU components are code the model is trained with: a change retrains.
MODEL_INPUTS = ("config.yml", "domain", "data", "nlu_components")
KEEP_MODELS = 3
LOOPBACK = "127.0.0.1"

# Never send telemetry or error reports anywhere; keep TensorFlow quiet.
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "PYTHONUNBUFFERED": "1",
}


def log(message: str) -> None:
    """Progress line for the person waiting on `make run`."""
    print(f"[stack] {message}", flush=True)


def _input_files() -> Iterator[Path]:
    for name in MODEL_INPUTS:
        path = BOT_DIR / name
        if path.is_file():
            yield path
        else:
            yield from sorted(p for p in path.rglob("*") if p.is_file() and _is_source(p))


def _is_source(path: Path) -> bool:
    """Not bytecode: `__pycache__` differs between machines and must not change the hash."""
    return "__pycache__" not in path.parts and path.suffix != ".pyc"


def model_fingerprint() -> str:
    """Hash of every file Rasa trains on: a changed hash means retrain."""
    digest = hashlib.sha256()
    for path in _input_files():
        digest.update(str(path.relative_to(BOT_DIR)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    """Where the model for the current inputs lives."""
    return MODELS_DIR / f"model-{model_fingerprint()}.tar.gz"


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for every child process."""
    env = dict(os.environ)
    env.update(QUIET_ENV)
    env.update(extra or {})
    return env


def ensure_model(force: bool = False) -> Path:
    """Train the Rasa model unless one for the current inputs already exists.

    A file lock makes concurrent callers (parallel test runs, `make run` while
    tests run) wait for one training and then reuse its model.
    """
    target = model_path()
    if target.exists() and not force:
        log(f"Rasa model is up to date ({target.name})")
        return target
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    with (MODELS_DIR / ".train.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists() and not force:
            log(f"Rasa model was trained meanwhile ({target.name})")
            return target
        _train(target)
    return target


def _train(target: Path) -> None:
    log("Training the Rasa model (a few minutes)...")
    started = time.monotonic()
    cmd = [
        str(RASA_BIN), "train",
        "--config", "config.yml", "--domain", "domain", "--data", "data",
        "--out", str(MODELS_DIR), "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    subprocess.run(cmd, cwd=BOT_DIR, env=base_env(), check=True)
    _prune_models(keep=target)
    log(f"Trained {target.name} in {time.monotonic() - started:.0f} s")


def _prune_models(keep: Path) -> None:
    models = sorted(MODELS_DIR.glob("model-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in models[:-KEEP_MODELS]:
        if old != keep:
            old.unlink()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Service:
    """One child process and how to tell that it is ready."""

    name: str
    argv: list[str]
    health_url: str
    cwd: Path
    env: dict[str, str]
    startup_timeout: float
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start in its own process group, output to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()

    def wait_healthy(self) -> None:
        """Poll the health URL until it answers 200, or fail with the log's tail."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early.\n{self.log_tail()}")
            if http_ok(self.health_url):
                return
            time.sleep(0.5)
        raise RuntimeError(
            f"{self.name} not healthy after {self.startup_timeout:.0f} s.\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group, SIGKILL it if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of the service's log, for error messages."""
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


def http_ok(url: str) -> bool:
    """True when `url` answers HTTP 200 within two seconds."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@dataclass(frozen=True)
class TrackerStore:
    """Where Rasa keeps conversations (bot/endpoints.yml reads these variables).

    SQLite in the run's var folder unless RASA_TRACKER_* say otherwise, e.g.
    RASA_TRACKER_DIALECT=postgresql RASA_TRACKER_URL=127.0.0.1:5432 RASA_TRACKER_DB=rasa
    RASA_TRACKER_USER=postgres (RASA_TRACKER_PASSWORD if the server wants one).
    """

    dialect: str = "sqlite"
    url: str = ""
    db: str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def from_env(cls, var_dir: Path, env: dict[str, str] | None = None) -> TrackerStore:
        """The tracker store the environment asks for, SQLite in `var_dir` by default."""
        values = os.environ if env is None else env
        dialect = values.get("RASA_TRACKER_DIALECT") or "sqlite"
        default_db = str(var_dir / "rasa-tracker.db") if dialect == "sqlite" else "rasa"
        return cls(
            dialect=dialect,
            url=values.get("RASA_TRACKER_URL", ""),
            db=values.get("RASA_TRACKER_DB") or default_db,
            user=values.get("RASA_TRACKER_USER", ""),
            password=values.get("RASA_TRACKER_PASSWORD", ""),
        )

    def rasa_env(self) -> dict[str, str]:
        """The variables bot/endpoints.yml expands (all of them, empty ones too)."""
        return {
            "RASA_TRACKER_DIALECT": self.dialect,
            "RASA_TRACKER_URL": self.url,
            "RASA_TRACKER_DB": self.db,
            "RASA_TRACKER_USER": self.user,
            "RASA_TRACKER_PASSWORD": self.password,
        }

    def sqlalchemy_url(self) -> str:
        """The same database for the participation package (psycopg 3 in .venv)."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.db}"
        credentials = quote(self.user, safe="")
        if self.password:
            credentials += ":" + quote(self.password, safe="")
        at = "@" if credentials else ""
        return f"postgresql+psycopg://{credentials}{at}{self.url}/{self.db}"


def participation_env(var_dir: Path, tracker: TrackerStore) -> dict[str, str]:
    """Where the action server and the app keep app data and find Rasa's conversations.

    PARTICIPATION_DATABASE_URL from the environment wins; otherwise SQLite in `var_dir`.
    """
    return {
        "PARTICIPATION_DATABASE_URL": os.environ.get("PARTICIPATION_DATABASE_URL")
        or f"sqlite:///{var_dir / 'participation.db'}",
        "PARTICIPATION_TRACKER_DATABASE_URL": tracker.sqlalchemy_url(),
    }


# Rasa 3.6's own Redis lock store can give two replicas the same ticket (docs/reliability.md).
ATOMIC_REDIS_LOCK_STORE = "bot.lock_store.AtomicRedisLockStore"


@dataclass(frozen=True)
class LockStore:
    """Rasa's lock store (bot/endpoints.yml reads these variables).

    In memory by default, which is right for one Rasa server. Several Rasa replicas that
    share one tracker store need a shared lock store, or two replicas could process
    turns of one conversation at once: RASA_LOCK_STORE=redis RASA_LOCK_STORE_URL=127.0.0.1
    (RASA_LOCK_STORE_PORT, RASA_LOCK_STORE_DB, RASA_LOCK_STORE_PASSWORD as needed).
    """

    type: str = "in_memory"
    url: str = ""
    port: str = "6379"
    db: str = "1"
    password: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LockStore:
        """The lock store the environment asks for, in memory by default."""
        values = os.environ if env is None else env
        return cls(
            type=values.get("RASA_LOCK_STORE") or "in_memory",
            url=values.get("RASA_LOCK_STORE_URL", ""),
            port=values.get("RASA_LOCK_STORE_PORT") or "6379",
            db=values.get("RASA_LOCK_STORE_DB") or "1",
            password=values.get("RASA_LOCK_STORE_PASSWORD", ""),
        )

    def rasa_env(self) -> dict[str, str]:
        """The variables bot/endpoints.yml expands (all of them: Rasa has no defaults).

        `redis` means our lock store with atomic tickets (bot/lock_store.py), not Rasa's.
        """
        return {
            "RASA_LOCK_STORE": ATOMIC_REDIS_LOCK_STORE if self.type == "redis" else self.type,
            "RASA_LOCK_STORE_URL": self.url,
            "RASA_LOCK_STORE_PORT": self.port,
            "RASA_LOCK_STORE_DB": self.db,
            "RASA_LOCK_STORE_PASSWORD": self.password,
        }


def action_service(port: int, var_dir: Path, data_env: dict[str, str], name: str) -> Service:
    """The action server (bot/action_server.py) on `port`, logging to var_dir/log/<name>.log."""
    return Service(
        name="action server",
        argv=[str(APP_PYTHON), "-m", "bot.action_server", "--actions", "bot.actions",
              "--port", str(port)],
        health_url=f"http://{LOOPBACK}:{port}/health",
        cwd=ROOT,
        env=base_env({"SANIC_HOST": LOOPBACK, **data_env}),
        startup_timeout=120,
        log_path=var_dir / "log" / f"{name}.log",
    )  # fmt: skip


def rasa_service(
    port: int,
    actions_port: int,
    var_dir: Path,
    model: Path,
    tracker: TrackerStore,
    lock_store: LockStore,
    name: str,
) -> Service:
    """A Rasa server on loopback `port` (HTTP API off) using the given stores."""
    actions_url = f"http://{LOOPBACK}:{actions_port}/webhook"
    return Service(
        name="Rasa server",
        argv=[str(RASA_BIN), "run", "--model", str(model),
              "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
              "--interface", LOOPBACK, "--port", str(port)],
        health_url=f"http://{LOOPBACK}:{port}/",
        cwd=BOT_DIR,
        # PYTHONPATH: Rasa runs in bot/ and loads bot.lock_store from the repository.
        env=base_env({"ACTION_ENDPOINT_URL": actions_url, **tracker.rasa_env(),
                      **lock_store.rasa_env(), "PYTHONPATH": str(ROOT)}),
        startup_timeout=300,
        log_path=var_dir / "log" / f"{name}.log",
    )  # fmt: skip


def app_service(
    port: int, rasa_port: int, var_dir: Path, env: dict[str, str], name: str
) -> Service:
    """The FastAPI gateway on loopback `port`, talking to the Rasa server on `rasa_port`."""
    return Service(
        name="FastAPI app",
        argv=[str(APP_PYTHON), "-m", "uvicorn", "--factory", "channels.app:app_factory",
              "--host", LOOPBACK, "--port", str(port)],
        health_url=f"http://{LOOPBACK}:{port}/healthz",
        cwd=ROOT,
        env=base_env({"APP_RASA_URL": f"http://{LOOPBACK}:{rasa_port}", **env}),
        startup_timeout=120,
        log_path=var_dir / "log" / f"{name}.log",
    )  # fmt: skip


@dataclass
class Ports:
    """Loopback ports of the three processes."""

    rasa: int = 5005
    actions: int = 5055
    app: int = 8000

    @classmethod
    def from_env(cls) -> Ports:
        """Ports from RASA_PORT, ACTIONS_PORT and APP_PORT, with the defaults."""
        return cls(
            rasa=int(os.environ.get("RASA_PORT", 5005)),
            actions=int(os.environ.get("ACTIONS_PORT", 5055)),
            app=int(os.environ.get("APP_PORT", 8000)),
        )

    @classmethod
    def free(cls) -> Ports:
        """Three currently free ports (tests)."""
        return cls(rasa=free_port(), actions=free_port(), app=free_port())


class Stack:
    """The three processes, started in order and stopped in reverse."""

    def __init__(
        self,
        ports: Ports,
        var_dir: Path,
        model: Path,
        tracker: TrackerStore | None = None,
        app_env: dict[str, str] | None = None,
        lock_store: LockStore | None = None,
    ) -> None:
        """Describe the services; nothing starts before `start()`.

        Args:
            ports: loopback ports of the three processes.
            var_dir: logs, SQLite databases.
            model: the trained Rasa model.
            tracker: Rasa's tracker store (default: from RASA_TRACKER_*, else SQLite).
            app_env: extra variables for the gateway (e.g. APP_REFRESH_ENABLED in tests).
            lock_store: Rasa's lock store (default: from RASA_LOCK_STORE*, else in memory).
        """
        self.ports = ports
        self.var_dir = var_dir
        self.tracker = tracker or TrackerStore.from_env(var_dir)
        self.lock_store = lock_store or LockStore.from_env()
        data_env = participation_env(var_dir, self.tracker)
        self.data_env = data_env
        self.services = [
            action_service(ports.actions, var_dir, data_env, "actions"),
            rasa_service(ports.rasa, ports.actions, var_dir, model, self.tracker,
                         self.lock_store, "rasa"),
            app_service(ports.app, ports.rasa, var_dir, {**data_env, **(app_env or {})}, "app"),
        ]  # fmt: skip

    def participation_command(self, *args: str) -> dict[str, object]:
        """Run `python -m participation <args>` on this stack's database; its JSON result.

        Tests use it as an operator would, e.g. `create-client --name ci --scope admin`.
        """
        done = subprocess.run(
            [str(APP_PYTHON), "-m", "participation", *args],
            cwd=ROOT, env=base_env(self.data_env), capture_output=True, text=True, check=True,
        )  # fmt: skip
        result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def service(self, name: str) -> Service:
        """The service called `name`."""
        return next(s for s in self.services if s.name == name)

    def start(self) -> None:
        """Start every service, then wait until each is healthy."""
        for service in self.services:
            log(f"Starting {service.name} (log: {service.log_path})")
            service.start()
        for service in self.services:
            started = time.monotonic()
            service.wait_healthy()
            log(f"{service.name} is healthy ({time.monotonic() - started:.1f} s)")

    def stop(self) -> None:
        """Stop every service, newest first."""
        for service in reversed(self.services):
            service.stop()

    def __enter__(self) -> Stack:
        """Start on entry; stop everything if starting fails."""
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on exit."""
        self.stop()


def _up() -> int:
    # RASA_MODEL runs a given model file (an experiment, a rollback) instead of the
    # model of the current inputs, which is otherwise trained when missing.
    chosen = os.environ.get("RASA_MODEL")
    model = Path(chosen).resolve() if chosen else ensure_model()
    ports = Ports.from_env()
    stack = Stack(ports, ROOT / "var", model)
    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # Explicit handlers: a launcher started in the background inherits an ignored
    # SIGINT, and `kill` sends SIGTERM; both must stop every service.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        with stack:
            base = f"http://{LOOPBACK}:{ports.app}"
            log("All services are up:")
            log(f"  chat page     {base}/")
            log(f"  API docs      {base}/docs")
            log(f"  chat API      POST {base}/api/v1/chat")
            log(f"  health        {base}/healthz")
            log(f"  admin         {base}/admin (first admin account:")
            log("                .venv/bin/python -m participation create-admin --username <name>)")
            log(f"  tracker store {stack.tracker.dialect} ({stack.tracker.db})")
            log(f"  lock store    {stack.lock_store.type}")
            log("Press Ctrl-C to stop.")
            while True:
                for service in stack.services:
                    if service.process is not None and service.process.poll() is not None:
                        log(f"{service.name} stopped unexpectedly:\n{service.log_tail()}")
                        return 1
                time.sleep(1)
    except KeyboardInterrupt:
        log("Stopping...")
    log("All services stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if up to date")
    sub.add_parser("up", help="train if needed, start all services, stop on Ctrl-C")
    sub.add_parser("fingerprint", help="print the hash of the Rasa model inputs")
    args = parser.parse_args(argv)
    if args.command == "train":
        ensure_model(force=args.force)
        return 0
    if args.command == "fingerprint":
        print(model_fingerprint())
        return 0
    return _up()


if __name__ == "__main__":
    sys.exit(main())
