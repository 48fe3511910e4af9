"""Scoring, sweeps and populations on a Dask cluster (``pip install "nngraph[distributed]"``).

nngraph does not build a cluster of its own: it hands tasks to ``distributed``. A network travels
as its spec (JSON data), folder and parameter arrays, compiled once per worker and cached there;
input rows travel as file paths and row ranges that workers read themselves. Without a client
everything runs in this process, chunk by chunk.

    score(plan, x, client=None)               -> outputs (a dask array for a dask array input)
    score_to(plan, source, out, client=None)  -> rows streamed from disk into an output file
    sweep(spec, grid, client=None)            -> one seeded training run per trial
    map_networks(fn, specs, client=None)      -> fn(plan) for every spec or plan (a population)
    connect("local:2" | "tcp://host:8786")    -> a Client (context manager that closes what it started)
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import os
import random
import time

import numpy as np

from .errors import NNGraphError, TrainingError
from .stream import InputSource, blas_threads, chunk_rows_for, current_blas_threads, ranges, read_ahead


class ClusterError(NNGraphError):
    """The Dask cluster cannot be reached or started, or dask is not installed."""


def _require():
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise ClusterError('this needs dask and distributed: pip install "nngraph[distributed]"') from None
    return distributed


# -- connecting ---------------------------------------------------------------------------------------


# For a LocalCluster started here. Its processes share the machine's cores with the work, so their
# housekeeping wakes less often (event-loop tick every 20 ms, system monitor every 0.5 s by default:
# measured 4% of a core in the client's process, idle, and 1.6% with these), and its workers do not
# run Dask's statistical profiler (a thread sampling the running task's stack every 10 ms: 3% of a
# core per worker idle, 0.5% without; during tasks it costs more). And its workers keep
# glibc's adaptive malloc: Dask sets MALLOC_TRIM_THRESHOLD_ for them, which also fixes the mmap
# threshold at 128 KiB, so every larger temporary (a training batch's activations and gradients)
# becomes a fresh mapping: measured 175,000 page faults and 21% more CPU time per Fashion-MNIST
# training epoch in a worker than in this process. (An explicit MALLOC_TRIM_THRESHOLD_ in the
# environment still wins.)
QUIET_LOCAL = {"distributed.admin.tick.interval": "500ms", "distributed.admin.system-monitor.interval": "2s",
               "distributed.scheduler.work-stealing-interval": "1s", "distributed.worker.profile.enabled": False,
               "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


@contextlib.contextmanager
def connect(address: str | None = None, *, timeout: float = 10.0, memory_limit=None):
    """A ``distributed.Client`` for ``address``, closed (with any cluster it started) on exit.

    ``local`` or ``local:N`` starts a LocalCluster of N worker processes (default 2), one thread
    each, on 127.0.0.1, dashboard off. ``tcp://HOST:PORT`` (or ``DASK_SCHEDULER_ADDRESS`` when
    ``address`` is None) connects to a running scheduler within ``timeout`` seconds. With no
    address at all, yields None: run in this process.

    Raises
    ------
    ClusterError
        dask missing, a bad address, or a scheduler that does not answer in time.
    """
    address = address or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if address is None:
        yield None
        return
    distributed = _require()
    cluster = client = None
    if address == "local" or address.startswith("local:"):
        n = address.partition(":")[2] or "2"
        if not (n.isascii() and n.isdigit()) or not 1 <= int(n) <= 256:
            raise ClusterError(f"--cluster {address}: write local or local:N with N workers (1 to 256)")
        import dask

        try:
            with dask.config.set(QUIET_LOCAL), _ctrl_c_after():
                cluster = distributed.LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True,
                                                   host="127.0.0.1", dashboard_address=None,
                                                   # the scheduler's HTTP server (health, no dashboard) on any
                                                   # free port: its default, 8787, warned when already taken
                                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                                   preload=["nngraph.cluster_preload"],  # workers leave Ctrl-C to us
                                                   memory_limit=memory_limit or "auto")
                client = distributed.Client(cluster)
        except BaseException:  # a Ctrl-C held back until now: close what was started
            _close(client, cluster)
            raise
    else:
        if "://" not in address:
            raise ClusterError(f"--cluster {address}: write local[:N] or a scheduler address like tcp://host:8786")
        try:
            client = distributed.Client(address, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"no Dask scheduler answered at {address} within {timeout:g} s ({type(exc).__name__}); "
                               "is it running, and is the address right?") from None
        except Exception as exc:  # something answered, not in Dask's protocol (an HTTP server's reply read as a
            # frame length asked for exabytes): what came back, never an internal error
            what = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            raise ClusterError(f"no Dask scheduler answered at {address} (what answered does not speak Dask's "
                               f"protocol: {what}); is the address that of a Dask scheduler?") from None
    try:
        yield client
    finally:
        _close(client, cluster)


def _close(client, cluster):
    import logging

    # a worker busy with a trial when Ctrl-C stops the command is killed on purpose: the nanny's
    # "Worker process still alive after ... seconds, killing" is no news to the user
    nanny = logging.getLogger("distributed.nanny")
    level = nanny.level
    nanny.setLevel(logging.ERROR)  # setLevel, not .level: it clears the loggers' cached answers
    try:
        if client is not None:
            client.close()
    finally:  # the cluster's processes are closed even when the client's connection failed first
        try:
            if cluster is not None:
                cluster.close()
        finally:
            nanny.setLevel(level)


@contextlib.contextmanager
def _ctrl_c_after():
    """Hold a Ctrl-C (SIGINT) back until the block ends, and keep it from every thread and process
    started inside the block: a thread inherits the signals its creator blocks and a process those
    of the thread that starts it, so the cluster's event-loop thread and the worker processes it
    spawns never see it, not even while a worker is being born (before its preload can ignore it:
    a Ctrl-C then printed the worker's traceback). Threads started earlier (BLAS's) may still take
    the signal, so this thread's handler only notes it meanwhile: a KeyboardInterrupt inside the
    cluster's start left it half-built, for Dask's exit hook to fail on. The command gets its
    Ctrl-C when the block ends, and closes what it started."""
    import signal
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield  # Windows has no terminal process groups to share a Ctrl-C; other threads get none
        return
    from multiprocessing import resource_tracker

    # started now, not by the cluster: starting it unblocks SIGINT in whatever thread does it (it
    # was the cluster's event loop, and so every worker it spawned)
    resource_tracker.ensure_running()
    noted = []
    previous = signal.signal(signal.SIGINT, lambda *_: noted.append(True))
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if signal.SIGINT not in held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # one pending is noted now
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
        if noted:
            signal.raise_signal(signal.SIGINT)  # as it arrives now: KeyboardInterrupt, by default


def oversubscribed(address: str | None, threads: int | None = None) -> str | None:
    """A note for ``--cluster local:N`` when its N single-threaded workers would each run as many
    BLAS threads as this process (the default, for the same bits) and together more than the cores
    here; None otherwise (another cluster's cores are not known here: see docs/scaling.md)."""
    address = address or os.environ.get("DASK_SCHEDULER_ADDRESS") or ""
    n = address.partition(":")[2] or "2"
    if (not (address == "local" or address.startswith("local:")) or not (n.isascii() and n.isdigit())
            or not 1 <= int(n) <= 256):  # a count the cluster refuses: its own error says so
        return None
    from .stream import _cores

    t, cores = _threads_for_workers(threads), _cores()
    if int(n) * t <= cores:
        return None
    fit = max(1, cores // int(n))
    if t <= fit:  # one BLAS thread each already: more workers than cores, which --threads cannot change
        return (f"{int(n)} workers on {cores} cores: each waits for a core; local:{cores} computes as fast "
                "with less memory")
    return (f"{int(n)} workers x {t} BLAS threads each on {cores} cores: --threads {fit} computes faster "
            f"(and gives the same bits as --threads {fit} without --cluster)")


# -- shipping a network -------------------------------------------------------------------------------


def payload(plan) -> dict:
    """What a worker needs to rebuild ``plan``: spec data, its folder, parameters, dtype, a token."""
    spec = plan.spec
    data = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    data.pop("parameters", None)  # the arrays travel with the payload; workers need not see the file
    params = plan.parameters()
    h = hashlib.sha256(json.dumps(data, sort_keys=True).encode())
    for k in sorted(params):
        h.update(k.encode())
        h.update(np.ascontiguousarray(params[k]).tobytes())
    h.update(str(plan.dtype).encode())
    return {"spec": data, "base_dir": str(spec.base_dir) if spec.base_dir else None, "params": params,
            "dtype": str(plan.dtype), "token": h.hexdigest()}


_PLANS: dict = {}  # token -> Plan, per worker process


def plan_from(p: dict):
    """The compiled plan of a :func:`payload`, compiled once per process."""
    plan = _PLANS.get(p["token"])
    if plan is None:
        from .compile import compile

        plan = compile(_spec_from(p["spec"], p["base_dir"]), params=p["params"], dtype=p["dtype"])
        if len(_PLANS) > 16:
            _PLANS.clear()
        _PLANS[p["token"]] = plan
    return plan


def _spec_from(data: dict, base_dir):
    from .spec.load import validate_data
    from .spec.source import Source

    return validate_data(data, Source(json.dumps(data), "<shipped spec>", "json"), base_dir)


def _ship(client, plan):
    """The plan's payload as a task result: each worker fetches it once, and a worker lost with
    its copy gets it again from another or from the task (scattered data would be gone for good)."""
    return client.submit(_identity, payload(plan), pure=False)


def _identity(x):
    return x


# Each task compiles (or finds) its plan before limiting BLAS: a library that compiling loads would
# not be limited until the next task.


def _score_rows(p, source: InputSource, a: int, b: int, threads: int) -> np.ndarray:
    plan = plan_from(p)
    with blas_threads(threads):  # the finite check of the rows runs through BLAS too
        return plan.forward(source.read(a, b))


def _score_block(block, p, threads: int):
    plan = plan_from(p)
    with blas_threads(threads):
        return plan.forward(np.asarray(block).reshape(len(block), -1))


def _threads_for_workers(threads):
    """What every worker limits its BLAS threads to: ``threads``, or as many as this process uses,
    so that a worker computes each row exactly as this process would (same bits)."""
    if threads is None:
        return current_blas_threads()
    with blas_threads(threads):  # checks the value
        return threads


# -- scoring ------------------------------------------------------------------------------------------


def score(plan, x, client=None, *, chunk_rows: int | None = None, threads: int | None = None):
    """Outputs of ``plan`` for every row of ``x``.

    ``x`` may be an ndarray or memmap, an :class:`~nngraph.stream.InputSource`, or a dask array.
    A dask array gives a lazy dask array (chunked by rows; compute it with any scheduler); any
    other input gives an ndarray, computed on ``client``'s workers when one is given (a memmap or
    source is read by the workers from its file), else here chunk by chunk. The result equals
    the in-process one bit for bit at the same chunk size and BLAS thread count (both can change
    the rounding of a matrix product in the last bit).

    ``threads``: BLAS threads per chunk, here and on every worker (default: as many as this
    process uses now). Workers use the same number as this process, because OpenBLAS and MKL
    round differently with different thread counts.
    """
    if type(x).__module__.startswith("dask"):
        import dask.array as da

        x = x.rechunk({1: -1}) if x.ndim == 2 else x
        from dask import delayed

        p = delayed(payload(plan), pure=True)  # one key in the graph, not a copy in every task
        return da.map_blocks(_score_block, x, p, _threads_for_workers(threads), dtype=plan.dtype,
                             chunks=(x.chunks[0], (plan.output_width,)),
                             meta=np.empty((0, 0), dtype=plan.dtype))
    source = x if isinstance(x, InputSource) else _as_source(x, plan.input_width)
    if source is None:  # an in-memory array
        x = plan.as_input(x)
        if client is None:
            rows = chunk_rows_for(plan.input_width, chunk_rows)
            with blas_threads(threads):
                return np.concatenate([plan.forward(x[a:b]) for a, b in ranges(len(x), rows)] or
                                      [np.empty((0, plan.output_width), plan.dtype)])
        import dask.array as da

        rows = chunk_rows_for(plan.input_width, chunk_rows)
        # hash=False: equal data scattered by two calls must not share keys (one call's release
        # would take the other's inputs away)
        futures = client.scatter([x[a:b] for a, b in ranges(len(x), rows)], hash=False)
        p = _ship(client, plan)
        t = _threads_for_workers(threads)
        parts = client.gather([client.submit(_score_block, f, p, t, retries=2) for f in futures])
        return np.concatenate(parts) if parts else np.empty((0, plan.output_width), plan.dtype)
    out = np.empty((source.rows, plan.output_width), dtype=plan.dtype)
    for a, y in _chunks(plan, source, client, chunk_rows, threads):
        out[a:a + len(y)] = y
    return out


def _as_source(x, width):
    """A memmapped .npy becomes a file source (workers read it); anything else stays in memory."""
    if isinstance(x, np.memmap) and getattr(x, "filename", None) and x.ndim == 2 and x.shape[1] == width \
            and x.flags.c_contiguous and x.dtype.kind in "fiub":
        from .stream import Shard

        base = x
        while isinstance(base.base, np.memmap):
            base = base.base
        if base is x or base.shape == x.shape:
            return InputSource((Shard(str(x.filename), "npy", x.shape[0], width, x.dtype.str, int(x.offset)),), width,
                               (0,))
    return None


def _chunks(plan, source: InputSource, client, chunk_rows, threads=None):
    """Yield ``(first_row, outputs)`` per chunk, in completion order (here: in order)."""
    rows = chunk_rows_for(source.width, chunk_rows)
    if client is None:
        with blas_threads(threads):
            for a, x in read_ahead(source, ranges(source.rows, rows)):
                yield a, plan.forward(x)
        return
    from distributed import as_completed

    p = _ship(client, plan)
    t = _threads_for_workers(threads)
    spans = ranges(source.rows, rows)
    # one graph update for every chunk, and results fetched as they finish: measured 20% less of the
    # client's CPU per chunk than a submit and a result() for each
    n = len(spans)
    futures = dict(zip(client.map(_score_rows, [p] * n, [source] * n, [a for a, _ in spans], [b for _, b in spans],
                                  [t] * n, retries=2, pure=False), (a for a, _ in spans)))
    try:
        for fut, y in as_completed(futures, with_results=True):
            yield futures[fut], y
    finally:
        # a chunk left unfinished (an error, Ctrl-C) is cancelled; when this runs after the client
        # closed (the generator finalised late, on Ctrl-C), its futures went with the client
        if client.status == "running":
            try:
                client.cancel(list(futures))
            except (RuntimeError, OSError, TimeoutError):  # the client's event loop closing meanwhile
                pass


def score_to(plan, source: InputSource, output, client=None, *, chunk_rows: int | None = None, progress=None,
             threads: int | None = None) -> dict:
    """Score every row of ``source`` into ``output`` (.npy, .csv or .zarr), atomically.

    With a client, workers read their row ranges from the files and return outputs; a chunk lost
    with a worker is computed again on another (each chunk writes its own rows, so nothing is
    duplicated or lost). ``progress(rows_done, rows_total)`` follows each chunk. ``threads``: BLAS
    threads per chunk, here and on the workers (default: as many as this process uses now).
    """
    from .stream import score_to as write_chunks

    return write_chunks(plan, source, output, chunk_rows=chunk_rows, progress=progress,
                        chunks=_chunks(plan, source, client, chunk_rows, threads))


# -- populations --------------------------------------------------------------------------------------


def map_networks(fn, networks, client=None, *, threads: int | None = None) -> list:
    """``[fn(plan) for plan in networks]``, on ``client``'s workers when given.

    ``networks``: plans, specs, paths or spec texts (compiled here first, so spec errors are
    reported before anything is sent). ``fn`` must be importable by the workers (a module-level
    function). Results come back in the order of ``networks``. ``threads``: BLAS threads for each
    call, here and on the workers (default: as many as this process uses now).

    Raises
    ------
    NNGraphError
        A spec that does not compile; a network whose ``fn`` failed, by index.
    """
    from .compile import compile
    from .plan import Plan

    plans = [n if isinstance(n, Plan) else compile(n) for n in networks]
    if client is None:
        with blas_threads(threads):
            return [_call(fn, plan, i) for i, plan in enumerate(plans)]
    t = _threads_for_workers(threads)
    n = len(plans)
    return client.gather(client.map(_call_shipped, [fn] * n, [payload(plan) for plan in plans], range(n), [t] * n,
                                    pure=False, retries=1))


def _call(fn, plan, i):
    try:
        return fn(plan)
    except NNGraphError:
        raise
    except Exception as exc:
        raise NNGraphError(f"network {i} ({plan.spec.name}): {type(exc).__name__}: {exc}") from exc


def _call_shipped(fn, p, i, threads):
    plan = plan_from(p)
    with blas_threads(threads):
        return _call(fn, plan, i)


# -- sweeps -------------------------------------------------------------------------------------------


def parse_grid(items) -> dict:
    """``["train.epochs=1,2", "train.optimizer.name=sgd,adam"]`` -> {key: [values as written]}."""
    grid = {}
    for text in items:
        key, sep, values = text.partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not vals:
            raise NNGraphError(f"--grid {text}: write key.path=value1,value2,...")
        if key.strip() in grid:
            raise NNGraphError(f"--grid {key.strip()}: given twice; list all its values in one --grid")
        twice = sorted({v for v in vals if vals.count(v) > 1})
        if twice:
            raise NNGraphError(f"--grid {text}: {', '.join(twice)} listed twice; each value makes one trial")
        grid[key.strip()] = vals
    return grid


def trials(grid: dict, random_k: int | None = None, seed: int = 0) -> list[dict]:
    """Every combination of the grid, or ``random_k`` of them drawn without repetition (seeded)."""
    keys = list(grid)
    total = 1
    for k in keys:
        total *= len(grid[k])
    if random_k is not None and random_k < total:
        if random_k > MAX_TRIALS:
            raise NNGraphError(f"--random {random_k:,}: at most {MAX_TRIALS:,} trials")
        # the same draw as sampling the list of combinations (sample picks indices), without making it
        return [_combo(grid, keys, i) for i in random.Random(seed).sample(range(total), random_k)]
    if total > MAX_TRIALS:  # counted before any combination is made
        raise NNGraphError(f"the grid has {total:,} combinations; at most {MAX_TRIALS:,} (use fewer values, or "
                           "--random K to draw K of them)")
    return [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]


MAX_TRIALS = 100_000


def _combo(grid, keys, index) -> dict:
    """The ``index``-th combination in itertools.product order (the last key varies fastest)."""
    out = {}
    for k in reversed(keys):
        index, r = divmod(index, len(grid[k]))
        out[k] = grid[k][r]
    return {k: out[k] for k in keys}


def run_trial(spec_data: dict, base_dir, overrides: dict, dtype: str = "float32", threads: int | None = None,
              reuse: str | None = None) -> dict:
    """One training run of the spec with ``overrides`` (seeded by its ``train.seed``), with ``threads``
    BLAS threads (None: as they are); never raises: a failure comes back as ``{"error": ...}`` so one
    bad trial does not stop a sweep. ``reuse``: a token shared by the trials of one sweep; trials
    with the same token and the same spec apart from ``train`` reuse the data this process loaded
    (read-only), instead of reading and decompressing it again for every trial."""
    with blas_threads(threads):
        return _trial(spec_data, base_dir, overrides, dtype, reuse)


_DATA: dict = {}  # (sweep token, spec without train) -> Dataset, the last one per process


def _forget_data():
    _DATA.clear()


def _data_for(spec, reuse):
    from .data import load_data

    if reuse is None:
        return load_data(spec)
    key = (reuse, json.dumps(spec.model_dump(mode="json", exclude={"train", "parameters"}, exclude_none=True),
                             sort_keys=True), str(spec.base_dir))
    data = _DATA.get(key)
    if data is None:
        _DATA.clear()  # one sweep's data at a time
        data = load_data(spec)
        for name in ("x_train", "y_train", "x_test", "y_test"):
            getattr(data, name).setflags(write=False)  # shared by trials: no trial may change it
        _DATA[key] = data
    return dataclasses.replace(data)


def _trial(spec_data, base_dir, overrides, dtype, reuse=None):
    t0 = time.perf_counter()
    out = {"overrides": overrides}
    try:
        from .graph import build
        from .spec import located_at_options, with_overrides
        from .training import evaluate, train

        spec = with_overrides(_spec_from(spec_data, base_dir), [f"{k}={v}" for k, v in overrides.items()], "--grid")
        with located_at_options(spec):  # a value the grid set is the grid's mistake, not the spec file's
            graph = build(spec)
            if spec.train is None:
                from .trainchecks import no_train_section

                raise no_train_section(graph)
            data = _data_for(spec, reuse)
            plan, history = train(graph, data, dtype=dtype)  # its checks too: train.checkpoint, the data
            test = evaluate(plan, data.x_test, data.y_test, data.classes, spec.train.loss)
        last = history[-1] if history else {}
        out.update({k: float(v) for k, v in last.items() if k in ("loss", "val_loss", "val_accuracy")})
        out.update({f"test_{k}": float(v) for k, v in test.items() if k in ("loss", "accuracy")})
        out["epochs"] = len(history)
        out["parameters"] = plan.parameters()
        from .params import activation_record

        out["activations"] = activation_record(graph)  # what the parameters were trained with
    except Exception as exc:  # a trial's failure is reported in its row, not raised; a Ctrl-C stops the sweep
        if _stopped(exc):
            raise _interruption(overrides) from None
        out["error"] = str(exc) if isinstance(exc, NNGraphError) else f"{type(exc).__name__}: {exc}"
    out["seconds"] = time.perf_counter() - t0
    return out


def _stopped(exc) -> bool:
    """Whether ``exc`` is a Ctrl-C: training's "interrupted during epoch N" (status 130), or any error
    that came of one. Such a trial did not fail: the user stopped the sweep."""
    from .errors import interrupted

    return getattr(exc, "exit_code", None) == 130 or interrupted(exc)


def _interruption(overrides) -> TrainingError:
    """The error that ends a sweep on Ctrl-C, status 130: small and picklable (it may come from a worker)."""
    shown = " ".join(f"{k}={v}" for k, v in overrides.items())
    error = TrainingError(f"sweep interrupted during the trial {shown}; nothing was written")
    error.exit_code = 130
    return error


def objective(result: dict) -> tuple[str, float]:
    """What ranks trials: validation loss when the spec holds data out, else training loss."""
    for key in ("val_loss", "loss"):
        if key in result and np.isfinite(result[key]):
            return key, result[key]
    return "loss", float("inf")


def sweep(spec, grid: dict, client=None, *, random_k: int | None = None, seed: int = 0, dtype: str = "float32",
          on_result=None, threads: int | None = None) -> list[dict]:
    """Train one variant of ``spec`` per trial of ``grid`` ({key path: [values]}), on ``client``'s
    workers when given; ``on_result(result)`` is called as each trial finishes. Returns the results
    in trial order; each has ``overrides``, final metrics, ``parameters`` or ``error``. ``threads``:
    BLAS threads per trial, here and on the workers (default: as many as this process uses now).
    """
    from . import load
    from .spec import with_overrides

    spec = load(spec) if not hasattr(spec, "model_dump") else spec
    combos = trials(grid, random_k, seed)
    for c in combos:  # refuse a bad key or value now, with the spec's own message, not on a worker
        with_overrides(spec, [f"{k}={v}" for k, v in c.items()], "--grid")
    data = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    base = str(spec.base_dir) if spec.base_dir else None
    results = [None] * len(combos)
    reuse = os.urandom(8).hex()  # the trials of this sweep share their data, per process
    if client is None:
        try:
            for i, c in enumerate(combos):
                results[i] = dict(run_trial(data, base, c, dtype, threads, reuse), trial=i)
                if on_result:
                    on_result(results[i])
        finally:
            _forget_data()
        return results
    from distributed import as_completed

    t = _threads_for_workers(threads)
    n = len(combos)
    futures = dict(zip(client.map(run_trial, [data] * n, [base] * n, combos, [dtype] * n, [t] * n, [reuse] * n,
                                  pure=False, retries=1), range(n)))
    try:
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                results[i] = dict(fut.result(), trial=i)
            except Exception as exc:  # the worker itself was lost more often than retries allow
                if _stopped(exc):  # a worker's trial received the Ctrl-C as well
                    raise
                results[i] = {"overrides": combos[i], "error": f"{type(exc).__name__}: {exc}", "trial": i}
            if on_result:
                on_result(results[i])
    finally:
        with contextlib.suppress(Exception):  # a long-lived cluster does not keep this sweep's data
            client.run(_forget_data)
    return results


def best(results: list[dict]):
    """The finished trial with the lowest :func:`objective`, or None if every trial failed."""
    ok = [r for r in results if "error" not in r]
    return min(ok, key=lambda r: objective(r)[1]) if ok else None


__all__ = ["score", "score_to", "sweep", "map_networks", "connect", "oversubscribed", "payload", "plan_from", "parse_grid", "trials",
           "run_trial", "best", "objective", "ClusterError"]
