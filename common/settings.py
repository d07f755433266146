"""Typed settings, built once from the environment; nothing else reads ``os.environ``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from common.errors import RenderError

#: Where Redis is, for this process and for the worker processes it starts.
BROKER_URL_ENV = "CLOUDRENDER_BROKER_URL"
RESULT_BACKEND_ENV = "CLOUDRENDER_RESULT_BACKEND"
#: Chunk tasks must finish well inside this (seconds); Redis redelivers unacked tasks after it.
DEFAULT_VISIBILITY_TIMEOUT = 6 * 3600
#: The longest one Redis command of the job store waits for its connection or its reply
#: (seconds); a frozen Redis then fails the command instead of holding it for ever.
DEFAULT_REDIS_TIMEOUT = 5.0
#: The longest one job-store call keeps trying an unreachable or unanswering Redis (seconds):
#: long enough to ride out a restart, short enough that a caller can say so in time.
DEFAULT_REDIS_PATIENCE = 20.0
#: Peak memory one frame may need by default: fits a 16 GB worker running a few chunks at once.
DEFAULT_MAX_FRAME_BYTES = 2 * 2**30
#: The shortest visibility timeout accepted (seconds): below it chunks would be redelivered
#: while they still run, and the task time limits derived from it would kill them.
MIN_VISIBILITY_TIMEOUT = 60
#: How long a job's prefix in storage must stay unchanged, with no record of its job in Redis,
#: before the orchestrator's sweep removes it (seconds), and the shortest accepted: a submit
#: writes its record before any ``jobs/<id>/`` object (its media go to ``assets/``), so the floor
#: only has to outlast a record write retried through a Redis restart, with a wide margin.
DEFAULT_SWEEP_GRACE = 3600
MIN_SWEEP_GRACE = 600
#: What one worker slot of a local cluster costs per hour (power and hardware), in dollars.
DEFAULT_HOURLY_RATE = 0.10
#: Bytes of rendered segments the segment cache in storage keeps by default (LRU beyond).
DEFAULT_CACHE_MAX_BYTES = 50 * 2**30
#: Largest request body the HTTP service reads (a project with its settings), in bytes.
DEFAULT_API_MAX_BODY_BYTES = 16 * 2**20
#: Largest media file the HTTP service accepts as an upload: asset sync's own limit
#: (orchestrator.assets.DEFAULT_MAX_BYTES; common cannot import it).
DEFAULT_API_MAX_ASSET_BYTES = 50 * 2**30
#: Requests per minute one API key may make by default.
DEFAULT_API_RATE_PER_MINUTE = 600
#: Origins the HTTP service answers cross-origin requests from by default: Timeline Studio's
#: Tauri webview (tauri://localhost on macOS/Linux, http(s)://tauri.localhost on Windows).
DEFAULT_API_CORS_ORIGINS = (
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
)


@dataclass(frozen=True)
class Settings:
    """Where the cluster is and how tasks behave."""

    broker_url: str | None = None
    result_backend: str | None = None
    storage_url: str | None = None
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    #: seconds one job-store command waits for Redis to connect or answer
    redis_timeout: float = DEFAULT_REDIS_TIMEOUT
    #: seconds one job-store call retries an unreachable Redis before it fails
    redis_patience: float = DEFAULT_REDIS_PATIENCE
    #: encoder threads per chunk task; None lets the encoder decide
    encoder_threads: int | None = None
    #: dollars per hour of one worker slot of this cluster (for estimates and billing)
    hourly_rate: float = DEFAULT_HOURLY_RATE
    #: seconds a finished job's records are kept
    job_ttl: int = 7 * 24 * 3600
    #: cloud whose interruption notices workers watch: "aws", "gcp", "azure" or None (off)
    spot_provider: str | None = None
    #: the metadata service to poll (the cloud's own by default; tests use a local server)
    spot_endpoint: str | None = None
    #: seconds between interruption checks
    spot_interval: float = 2.0
    #: where a worker keeps downloaded assets, and how many bytes it may hold
    cache_dir: str = "~/.cache/cloudrender/assets"
    cache_bytes: int = 20 * 2**30
    #: bytes of rendered segments kept in storage for re-renders (orchestrator.segment_cache)
    cache_max_bytes: int = DEFAULT_CACHE_MAX_BYTES
    #: where `cloudrender render`'s private cluster keeps its storage between renders (the
    #: segment cache that makes a re-render of an edited project fast); job objects are removed
    #: after each render
    embedded_dir: str = "~/.cache/cloudrender/embedded"
    #: where OTIO bundles (.otioz) are unpacked for rendering, one folder per bundle content
    bundle_dir: str = "~/.cache/cloudrender/bundles"
    #: where the render fingerprint remembers its libraries' hashes between processes
    #: (workers.file_hashes); "off": hash them in every process
    fingerprint_memo: str = "~/.cache/cloudrender/fingerprint-files.json"
    #: AES-256 key (64 hex characters or base64) for client-side encryption of stored objects
    encryption_key: str | None = field(default=None, repr=False)
    #: "user:password" for Flower's basic auth
    flower_auth: str | None = field(default=None, repr=False)
    #: port of this process's Prometheus exporter (0: none), and the address it binds
    metrics_port: int = 0
    metrics_addr: str = "127.0.0.1"
    #: an S3-compatible endpoint (MinIO, moto) instead of AWS's own (also AWS_ENDPOINT_URL[_S3])
    s3_endpoint_url: str | None = None
    #: "user:password" for the Prometheus exporter's basic auth (None: no auth, bind locally)
    metrics_auth: str | None = field(default=None, repr=False)
    #: peak bytes one frame may need (canvas, layers, subtitles, effect buffers); larger
    #: projects are refused at validation
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    #: directories a worker may read media from besides its asset cache (a shared disk)
    media_roots: tuple[str, ...] = ()
    #: directories a worker may deliver finished videos into (a shared disk)
    output_roots: tuple[str, ...] = ()
    #: address-space limit of one chunk's render process in bytes (None: derived from
    #: max_frame_bytes), and its CPU-time limit in seconds (None: the task time limit)
    chunk_memory_bytes: int | None = None
    chunk_cpu_seconds: int | None = None
    #: isolation of chunk renders: "auto" (bubblewrap when usable), "bwrap" (required), "off"
    sandbox: str = "auto"
    #: per-pixel compositing steps: "auto" (the C kernels where they were built) or "numpy"
    kernels: str = "auto"
    #: where layers are composited: "auto" (the GPU when CuPy opens a CUDA device, else the
    #: CPU), "cpu", "gpu" (refuse to render without one), or "gpu-numpy" (the GPU code path
    #: run by NumPy on the CPU: tests and debugging on machines without a GPU)
    compositor: str = "auto"
    #: Celery message signing (task_serializer "auth"): this node's private key, its certificate
    #: and the directory of certificates it trusts; all three or none
    security_key: str | None = field(default=None, repr=False)
    security_certificate: str | None = None
    security_cert_store: str | None = None
    #: the pools file the autoscaler reads (providers.compute.pools); None: no autoscaler
    pools_file: str | None = None
    #: CLOUDRENDER_POOL_<NAME>_<FIELD> variables, applied over the pools file
    pool_overrides: Mapping[str, str] = field(default_factory=dict)
    #: CLOUDRENDER_AUTOSCALER_<FIELD> variables, applied over the file's [autoscaler] table
    autoscaler_overrides: Mapping[str, str] = field(default_factory=dict)
    #: the pool this node was launched in and its id at the compute engine (set by the
    #: engine's start-up script); its heartbeat carries both so the autoscaler knows it
    node_pool: str | None = None
    instance_id: str | None = None
    #: a price catalogue that overrides the shipped one (`cloudrender prices refresh` writes it)
    prices_file: str = "~/.cache/cloudrender/prices.json"
    #: run the node benchmark when a worker of a node class nobody has measured starts
    benchmark_on_start: bool = True
    #: where budget threshold events are POSTed (JSON), besides the Redis channel
    budget_webhook: str | None = None
    #: seconds between autoscaler rounds (each asks every pool's engine for its nodes)
    autoscale_interval: float = 15.0
    #: the autoscaler decides and logs the engine calls it would make, without making them
    autoscale_dry_run: bool = False
    #: the HTTP service clients talk to instead of Redis (`--api URL`), and their API key
    api_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    #: origins browsers may call the HTTP service from (CORS)
    api_cors_origins: tuple[str, ...] = DEFAULT_API_CORS_ORIGINS
    #: largest request body and largest uploaded asset the HTTP service accepts (bytes)
    api_max_body_bytes: int = DEFAULT_API_MAX_BODY_BYTES
    api_max_asset_bytes: int = DEFAULT_API_MAX_ASSET_BYTES
    #: requests per minute one API key may make (a key's own rate_per_minute overrides it)
    api_rate_per_minute: int = DEFAULT_API_RATE_PER_MINUTE
    #: folded into this node's render fingerprint: an operator's way to keep two builds apart
    #: (their nodes never share a job's chunks or the segment cache)
    fingerprint_salt: str = ""
    #: seconds an unknown job's storage prefix must stay unchanged before the sweep removes it
    sweep_grace: int = DEFAULT_SWEEP_GRACE
    #: whether the orchestrator's storage sweep runs at all (CLOUDRENDER_SWEEP=off: never)
    sweep: bool = True
    #: this cluster's name in the storage ownership markers (unset: an id kept in Redis)
    cluster_id: str | None = None

    @property
    def embedded_storage(self) -> str:
        """The folder of the local renders' lasting storage, absolute: a relative
        CLOUDRENDER_EMBEDDED_DIR is taken from the working directory (a file URI cannot be)."""
        return os.path.join(os.path.abspath(os.path.expanduser(self.embedded_dir)), "storage")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read CLOUDRENDER_* variables (see the README)."""
        env = os.environ if env is None else env
        broker = env.get(BROKER_URL_ENV) or None
        parts = ("KEY", "CERTIFICATE", "CERT_STORE")
        signing = [env.get(f"CLOUDRENDER_SECURITY_{part}") for part in parts]
        if any(signing) and not all(signing):
            raise RenderError(
                "message signing needs all of CLOUDRENDER_SECURITY_KEY, "
                "CLOUDRENDER_SECURITY_CERTIFICATE and CLOUDRENDER_SECURITY_CERT_STORE"
            )
        return cls(
            broker_url=broker,
            result_backend=env.get(RESULT_BACKEND_ENV) or broker,
            storage_url=env.get("CLOUDRENDER_STORAGE_URL") or None,
            sweep_grace=_at_least(
                _int(env, "CLOUDRENDER_SWEEP_GRACE", DEFAULT_SWEEP_GRACE),
                MIN_SWEEP_GRACE,
                "CLOUDRENDER_SWEEP_GRACE",
            ),
            sweep=(_choice(env, "CLOUDRENDER_SWEEP", ("on", "off")) or "on") == "on",
            cluster_id=env.get("CLOUDRENDER_CLUSTER_ID") or None,
            visibility_timeout=_at_least(
                _int(env, "CLOUDRENDER_VISIBILITY_TIMEOUT", DEFAULT_VISIBILITY_TIMEOUT),
                MIN_VISIBILITY_TIMEOUT,
                "CLOUDRENDER_VISIBILITY_TIMEOUT",
            ),
            redis_timeout=_positive(env, "CLOUDRENDER_REDIS_TIMEOUT", DEFAULT_REDIS_TIMEOUT),
            redis_patience=_float(env, "CLOUDRENDER_REDIS_PATIENCE", DEFAULT_REDIS_PATIENCE),
            encoder_threads=_int(env, "CLOUDRENDER_ENCODER_THREADS", 0) or None,
            hourly_rate=_float(env, "CLOUDRENDER_HOURLY_RATE", DEFAULT_HOURLY_RATE),
            job_ttl=_int(env, "CLOUDRENDER_JOB_TTL", 7 * 24 * 3600),
            spot_provider=_choice(env, "CLOUDRENDER_SPOT_PROVIDER", ("aws", "gcp", "azure")),
            spot_endpoint=env.get("CLOUDRENDER_SPOT_ENDPOINT") or None,
            spot_interval=_float(env, "CLOUDRENDER_SPOT_INTERVAL", 2.0),
            cache_dir=env.get("CLOUDRENDER_CACHE_DIR") or "~/.cache/cloudrender/assets",
            cache_bytes=_size(env, "CLOUDRENDER_CACHE_BYTES", 20 * 2**30),
            cache_max_bytes=_size(env, "CLOUDRENDER_CACHE_MAX_BYTES", DEFAULT_CACHE_MAX_BYTES),
            embedded_dir=env.get("CLOUDRENDER_EMBEDDED_DIR") or "~/.cache/cloudrender/embedded",
            bundle_dir=env.get("CLOUDRENDER_BUNDLE_DIR") or "~/.cache/cloudrender/bundles",
            fingerprint_memo=env.get("CLOUDRENDER_FINGERPRINT_MEMO")
            or "~/.cache/cloudrender/fingerprint-files.json",
            encryption_key=env.get("CLOUDRENDER_ENCRYPTION_KEY") or None,
            flower_auth=env.get("CLOUDRENDER_FLOWER_AUTH") or None,
            metrics_port=_int(env, "CLOUDRENDER_METRICS_PORT", 0),
            metrics_addr=env.get("CLOUDRENDER_METRICS_ADDR") or "127.0.0.1",
            metrics_auth=env.get("CLOUDRENDER_METRICS_AUTH") or None,
            max_frame_bytes=_size(env, "CLOUDRENDER_MAX_FRAME_BYTES", DEFAULT_MAX_FRAME_BYTES),
            media_roots=_paths(env, "CLOUDRENDER_MEDIA_ROOTS"),
            output_roots=_paths(env, "CLOUDRENDER_OUTPUT_ROOTS"),
            chunk_memory_bytes=_size(env, "CLOUDRENDER_CHUNK_MEMORY_BYTES", 0) or None,
            chunk_cpu_seconds=_int(env, "CLOUDRENDER_CHUNK_CPU_SECONDS", 0) or None,
            sandbox=_choice(env, "CLOUDRENDER_SANDBOX", ("auto", "bwrap", "off")) or "auto",
            kernels=_choice(env, "CLOUDRENDER_KERNELS", ("auto", "numpy")) or "auto",
            compositor=_choice(env, "CLOUDRENDER_COMPOSITOR", ("auto", "cpu", "gpu", "gpu-numpy"))
            or "auto",
            security_key=env.get("CLOUDRENDER_SECURITY_KEY") or None,
            security_certificate=env.get("CLOUDRENDER_SECURITY_CERTIFICATE") or None,
            security_cert_store=env.get("CLOUDRENDER_SECURITY_CERT_STORE") or None,
            pools_file=env.get("CLOUDRENDER_POOLS_FILE") or None,
            pool_overrides=_prefixed(env, "CLOUDRENDER_POOL_", skip=("CLOUDRENDER_POOLS_FILE",)),
            autoscaler_overrides=_prefixed(env, "CLOUDRENDER_AUTOSCALER_"),
            node_pool=env.get("CLOUDRENDER_NODE_POOL") or None,
            instance_id=env.get("CLOUDRENDER_INSTANCE_ID") or None,
            prices_file=env.get("CLOUDRENDER_PRICES_FILE") or "~/.cache/cloudrender/prices.json",
            benchmark_on_start=(env.get("CLOUDRENDER_BENCHMARK_ON_START") or "1").lower()
            not in ("0", "false", "no"),
            budget_webhook=env.get("CLOUDRENDER_BUDGET_WEBHOOK") or None,
            autoscale_interval=_float(env, "CLOUDRENDER_AUTOSCALE_INTERVAL", 15.0) or 15.0,
            autoscale_dry_run=(env.get("CLOUDRENDER_AUTOSCALE_DRY_RUN") or "").lower()
            in ("1", "true", "yes"),
            api_url=env.get("CLOUDRENDER_API_URL") or None,
            api_key=env.get("CLOUDRENDER_API_KEY") or None,
            api_cors_origins=_origins(env, "CLOUDRENDER_API_CORS_ORIGINS"),
            api_max_body_bytes=_size(
                env, "CLOUDRENDER_API_MAX_BODY_BYTES", DEFAULT_API_MAX_BODY_BYTES
            ),
            api_max_asset_bytes=_size(
                env, "CLOUDRENDER_API_MAX_ASSET_BYTES", DEFAULT_API_MAX_ASSET_BYTES
            ),
            api_rate_per_minute=_int(
                env, "CLOUDRENDER_API_RATE_PER_MINUTE", DEFAULT_API_RATE_PER_MINUTE
            ),
            fingerprint_salt=env.get("CLOUDRENDER_FINGERPRINT_SALT") or "",
            s3_endpoint_url=env.get("CLOUDRENDER_S3_ENDPOINT_URL")
            or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL")
            or None,
        )


def compute_backend(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """CLOUDRENDER_KERNELS and CLOUDRENDER_COMPOSITOR as given (lower case, "" when unset),
    without checking the other settings: read when workers.kernels is imported, where a bad
    value of another setting must not stop the import (the command reports it in one line)."""
    env = os.environ if env is None else env
    return tuple(  # type: ignore[return-value]
        (env.get(name) or "").strip().lower()
        for name in ("CLOUDRENDER_KERNELS", "CLOUDRENDER_COMPOSITOR")
    )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RenderError(f"{name}={raw!r} must be a whole number") from None
    if value < 0:
        raise RenderError(f"{name}={raw!r} must not be negative")
    return value


#: Units a byte size may be written in (case aside): K, M, G and T and their -iB forms count
#: in 1024s, as the README writes sizes ("50 GiB"); KB, MB, GB and TB in 1000s.
_SIZE_UNITS = {
    **{u: 1024**i for i, u in enumerate(["", "k", "m", "g", "t"])},
    **{u + "ib": 1024**i for i, u in enumerate(["b", "k", "m", "g", "t"]) if i},
    **{u + "b": 1000**i for i, u in enumerate(["", "k", "m", "g", "t"])},
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_size(raw: str, name: str) -> int:
    """Bytes written as 1073741824, 10G, 512 MiB or 2GB; RenderError naming ``name`` else."""
    match = _SIZE.match(raw.lower())
    scale = _SIZE_UNITS.get(match.group(2)) if match else None
    if match is None or scale is None:
        raise RenderError(
            f"{name}={raw!r} must be a size in bytes, such as 10737418240, 10G or 10 GiB"
        )
    return int(float(match.group(1)) * scale)


def _size(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return parse_size(raw, name) if raw else default


def _prefixed(env: Mapping[str, str], prefix: str, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every non-empty variable whose name starts with `prefix` (overrides of a config file)."""
    return {k: v for k, v in env.items() if k.startswith(prefix) and k not in skip and v}


def _at_least(value: int, low: int, name: str) -> int:
    if value < low:
        raise RenderError(f"{name}={value} must be at least {low}")
    return value


def _paths(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Absolute directories from a os.pathsep-separated list (empty entries skipped)."""
    raw = env.get(name) or ""
    paths = tuple(os.path.abspath(os.path.expanduser(p)) for p in raw.split(os.pathsep) if p)
    return paths


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of origins (unset: the defaults; "none": no cross-origin caller)."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return DEFAULT_API_CORS_ORIGINS
    if raw.strip().lower() == "none":
        return ()
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and "://" not in origin:
            raise RenderError(f"{name}: {origin!r} is not an origin (scheme://host[:port] or *)")
    return origins


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise RenderError(f"{name}={raw!r} must be a number") from None
    if not value >= 0:
        raise RenderError(f"{name}={raw!r} must not be negative")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw not in allowed:
        raise RenderError(f"{name}={raw!r} must be one of {', '.join(allowed)}")
    return raw


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if value == 0:
        # redis-py reads a 0 s timeout as "never block": every command would fail at once.
        raise RenderError(f"{name}=0 must be more than 0 seconds")
    return value
