# SPDX-License-Identifier: MIT
"""The driver of a vitc.dask job: lists the inputs as `vitc embed` orders
them, identifies the model (revision, file digests), checks a rerun against
the job already in out_dir, loads the model on the workers (ModelPlugin),
submits the shards not yet committed (a bounded number in flight, each
retried on failure; a worker's death reschedules its shard), and writes
manifest.json once every shard is committed. Talks to Dask and the file
system; the embedding itself happens in _worker on the workers."""

import hashlib
import os
import re
import secrets
import time

import dask
import distributed
from distributed.scheduler import KilledWorker

from .. import _inputs, _model
from .._errors import FileError, InvalidArgumentError, VitcError, raise_status
from .._version import __version__
from . import _files, _worker

OUTPUTS = ("pooler_output", "cls", "last_hidden_state", "logits", "pixel_values")
PRECISIONS = ("fp32", "bf16", "int8", "fp16", "tf32")

# ---- inputs ---------------------------------------------------------------------------------


def _add(arg, recursive, out, where):
    path = os.fsdecode(os.fspath(arg))
    if os.path.isdir(path):
        out.extend(_inputs._list_dir(path, recursive))
    elif path.lower().endswith(".npy"):
        raise InvalidArgumentError("%s: vitc.dask embeds image files; run .npy pixel_values "
                                   "through vitc.Model.embed or `vitc embed`" % where)
    else:
        out.append(path)


def list_inputs(inputs, recursive=False, list_file=None):
    """The input names, in the order `vitc embed` takes them: the inputs (a
    path or an iterable of paths; directories give their JPEG/PNG files, with
    recursive=True those of subdirectories too, sorted by path in byte order),
    then the lines of list_file ("-" for stdin), each taken like an input
    (blank lines ignored, a trailing CR dropped). Named files must exist;
    files found in directories and list files are checked by the workers."""
    if isinstance(inputs, (str, bytes, os.PathLike)):
        inputs = [inputs]
    names = []
    for i, arg in enumerate(inputs):
        if not isinstance(arg, (str, bytes, os.PathLike)):
            raise InvalidArgumentError("inputs[%d]: expected a path, not %s"
                                       % (i, type(arg).__name__))
        path = os.fsdecode(os.fspath(arg))
        if not os.path.exists(path):
            raise FileError("%s: no such file or directory" % path)
        _add(path, recursive, names, path)
    if list_file is not None:
        import sys
        try:
            if os.fspath(list_file) == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(list_file, "rb") as f:
                    data = f.read()
        except OSError as e:
            raise FileError("%s: %s" % (os.fsdecode(os.fspath(list_file)), e.strerror)) from None
        for n, line in enumerate(data.split(b"\n"), 1):
            line = line[:-1] if line.endswith(b"\r") else line
            if line.strip(b" \t"):
                _add(os.fsdecode(line), recursive, names,
                     "%s:%d" % (os.fsdecode(os.fspath(list_file)), n))
    if not names:
        raise InvalidArgumentError("inputs: no inputs")
    return names


def _names_digest(names):
    """SHA-256 of the names as paths.txt lines, without building them all at once."""
    h = hashlib.sha256()
    for n in names:
        h.update(os.fsencode(n) + b"\n")
    return h.hexdigest()


# ---- the model --------------------------------------------------------------------------------


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_identity(model, revision, cache_dir):
    """(the model as the workers should load it, its record for job.json):
    a directory's absolute path, or for a hub repo id the id and the commit
    the driver resolved (so every worker loads the same revision); the
    record holds the id, path, revision and the files' SHA-256."""
    path = _model._resolve(model, revision, cache_dir)
    as_dir = os.path.isdir(os.fspath(model))
    digests = {}
    for name in ("config.json", "preprocessor_config.json", "model.safetensors"):
        f = os.path.join(path, name)
        if os.path.exists(f):
            try:
                digests[name] = _sha256(f)
            except OSError as e:
                raise FileError("%s: cannot read: %s" % (f, e.strerror)) from None
    m = re.search(r"/snapshots/([0-9a-f]{40})/?$", path)
    commit = m.group(1) if m else None
    record = {"id": os.fsdecode(os.fspath(model)), "path": os.path.abspath(path),
              "revision": commit or revision, "sha256": digests}
    if as_dir:
        return os.path.abspath(path), None, record
    return os.fsdecode(os.fspath(model)), commit or revision, record


# ---- out_dir --------------------------------------------------------------------------------


def prepare_out_dir(out_dir):
    """Creates out_dir if needed and proves it writable (a probe file), so an
    unusable directory fails before any work."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise FileError("%s: cannot create the output directory: %s"
                        % (out_dir, e.strerror)) from None
    if not os.path.isdir(out_dir):
        raise FileError("%s: not a directory" % out_dir)
    try:
        _files.write_atomic(os.path.join(out_dir, ".vitc-dask-probe"), b"")
        os.unlink(os.path.join(out_dir, ".vitc-dask-probe"))
    except OSError as e:
        raise FileError("%s: cannot write in the output directory: %s"
                        % (out_dir, e.strerror)) from None


_SAME = ("format", "output", "precision", "shard_size", "n_inputs", "inputs_sha256")


def check_rerun(out_dir, job):
    """Refuses an out_dir holding another job (a rerun must be the same job
    to resume it); returns the existing manifest when the job is complete."""
    old = _files.read_json(os.path.join(out_dir, _files.JOB))
    if old is None:
        if os.path.exists(os.path.join(out_dir, _files.MANIFEST)):
            raise FileError("%s: has a %s but no %s; use an empty directory"
                            % (out_dir, _files.MANIFEST, _files.JOB))
        return None
    diffs = [k for k in _SAME if old.get(k) != job.get(k)]
    om, nm = old.get("model") or {}, job["model"]
    if om.get("sha256") != nm["sha256"]:
        diffs.append("model files (sha256)")
    if diffs:
        raise InvalidArgumentError(
            "%s: holds another job (%s differ from this call's); use another out_dir, or "
            "empty this one to start over" % (os.path.join(out_dir, _files.JOB), ", ".join(diffs)))
    manifest = _files.read_json(os.path.join(out_dir, _files.MANIFEST))
    if manifest and manifest.get("totals", {}).get("skipped") and not job["skip_errors"]:
        raise InvalidArgumentError(
            "%s: the completed job skipped %d unreadable inputs (listed in shard-*.errors.txt); "
            "pass skip_errors=True to accept that, or use another out_dir"
            % (out_dir, manifest["totals"]["skipped"]))
    return manifest


# ---- Dask --------------------------------------------------------------------------------------


def available_cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _has_default_client():
    try:
        distributed.default_client()
        return True
    except ValueError:
        return False


def connect(client, timeout):
    """(client, what to close when done: [client, cluster] we made, else []) for embed()'s
    client argument."""
    if isinstance(client, distributed.Client):
        return client, []
    if isinstance(client, str):
        try:
            c = distributed.Client(client, timeout=timeout, set_as_default=False)
            return c, [c]
        except (OSError, TimeoutError) as e:
            raise ConnectionError("cannot reach the Dask scheduler at %s: %s" % (client, e)) \
                from None
    if client is not None:
        raise InvalidArgumentError("client: expected a distributed.Client, a scheduler address "
                                   "or None, not %s" % type(client).__name__)
    try:
        return distributed.default_client(), []
    except ValueError:
        pass
    # One shard at a time (one Dask thread) on every core (vitc's threads: embed() passes
    # threads_per_worker=cores for this cluster).
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    c = distributed.Client(cluster, set_as_default=False)
    return c, [c, cluster]


def _load_on_workers(client, plugin, output, timeout):
    """Registers the plugin (the model loads on every worker) and returns the
    workers' describe() reports; raises naming the cause when a worker cannot
    load the model."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError) as e:
        raise ConnectionError("no Dask worker joined the scheduler %s within %s s (%s)"
                              % (client.scheduler.address, timeout, e)) from None
    try:
        client.register_worker_plugin(plugin, name=plugin.name)
    except Exception as e:
        _unregister(client, plugin.name)
        message = "the model failed to load on the Dask workers: %s" % (
            e.message if isinstance(e, VitcError) else "%s (%s)" % (e, type(e).__name__))
        if isinstance(e, VitcError):
            raise_status(e.status, message)
        raise RuntimeError(message) from None
    reports = client.run(_worker.describe, plugin.name, output)
    for address, r in sorted(reports.items()):
        if "error" in r:
            _unregister(client, plugin.name)
            if "status" in r:
                raise_status(r["status"], r["error"])
            raise RuntimeError("the model failed to load on Dask worker %s: %s"
                               % (address, r["error"]))
    return reports


def _unregister(client, name):
    try:
        client.unregister_worker_plugin(name)
    except Exception:  # the plugin is gone already, or the cluster is: nothing to free
        pass


def _in_flight(client):
    """How many shards to keep submitted: two per worker thread, so workers
    never wait for the next one, without flooding the scheduler."""
    workers = client.scheduler_info().get("workers", {})
    return max(4, 2 * sum(w.get("nthreads", 1) for w in workers.values()))


def run_shards(client, plugin_name, shards, out_dir, output, skip_errors, retries, progress):
    """Runs shards [(index, names)] to completion; returns their summaries.
    The first failure cancels the rest and raises."""
    run_id = secrets.token_hex(4)
    todo = list(reversed(shards))
    futures = {}
    done = []
    ac = distributed.as_completed(loop=client.loop)

    def submit():
        while todo and len(futures) < _in_flight(client):
            index, names = todo.pop()
            f = client.submit(_worker.run_shard, plugin_name, index, names, out_dir, output,
                              skip_errors, key="vitc-shard-%05d-%s" % (index, run_id),
                              retries=retries, pure=False)
            futures[f] = index
            ac.add(f)

    try:
        submit()
        for f in ac:
            index = futures.pop(f)
            try:
                summary = f.result()
            except KilledWorker as e:
                raise RuntimeError(
                    "%s: every Dask worker that ran it died, %d times in all (more than the "
                    "scheduler's distributed.scheduler.allowed-failures): %s"
                    % (_files.shard_name(index), 1 + dask.config.get(
                        "distributed.scheduler.allowed-failures"), e)) from None
            f.release()
            if "error" in summary:
                raise_status(summary["error"]["status"], summary["error"]["message"])
            done.append(summary)
            if progress:
                progress(summary)
            submit()
    except BaseException:
        client.cancel(list(futures))
        raise
    return done


# ---- embed ------------------------------------------------------------------------------------


def _check_int(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidArgumentError("%s: expected an integer in %d..%d, not %r"
                                   % (name, lo, hi, value))


def embed(inputs, model, out_dir, client=None, output=None, shard_size=1000, batch=8,
          threads_per_worker=None, precision="fp32", skip_errors=False, recursive=False,
          list_file=None, device="cpu", retries=2, timeout=30, revision=None, cache_dir=None,
          progress=None):
    """See vitc.dask.embed (the package doc)."""
    _check_int("shard_size", shard_size, 1, 1 << 30)
    _check_int("batch", batch, 1, 4096)
    _check_int("retries", retries, 0, 1000)
    if threads_per_worker is not None:
        _check_int("threads_per_worker", threads_per_worker, 1, 4096)
    if precision not in PRECISIONS:
        raise InvalidArgumentError("precision: expected one of %s, not %r"
                                   % (", ".join(PRECISIONS), precision))
    if output is not None and output not in OUTPUTS:
        raise InvalidArgumentError("output: expected one of %s, not %r"
                                   % (", ".join(OUTPUTS), output))
    out_dir = os.path.abspath(os.fsdecode(os.fspath(out_dir)))
    t0 = time.monotonic()
    prepare_out_dir(out_dir)
    names = list_inputs(inputs, recursive, list_file)
    worker_model, worker_revision, record = model_identity(model, revision, cache_dir)
    job = {"format": _files.FORMAT, "model": record, "output": output, "precision": precision,
           "shard_size": shard_size, "n_inputs": len(names),
           "inputs_sha256": _names_digest(names)}
    manifest = check_rerun(out_dir, dict(job, skip_errors=skip_errors))
    if manifest is not None:
        return dict(manifest, run={"computed": [], "resumed": len(manifest["shards"])})

    shards = [(i, names[start:start + shard_size])
              for i, start in enumerate(range(0, len(names), shard_size))]
    ready = {i: _files.committed(out_dir, i, len(part), skip_errors) for i, part in shards}
    pending = [(i, part) for i, part in shards if not ready[i]]

    started_here = client is None and not _has_default_client()
    client, owned = connect(client, timeout)
    if started_here and threads_per_worker is None:
        threads_per_worker = available_cores()
    plugin = _worker.ModelPlugin("vitc-model-" + secrets.token_hex(6), worker_model, precision,
                                 threads_per_worker, batch, device, worker_revision, cache_dir)
    try:
        reports = _load_on_workers(client, plugin, output, timeout)
        first = reports[sorted(reports)[0]]
        job["output_name"], job["row_shape"] = first["output"], first["row_shape"]
        if not os.path.exists(os.path.join(out_dir, _files.JOB)):
            _files.write_json(os.path.join(out_dir, _files.JOB), job)

        resumed_inputs = sum(len(part) for i, part in shards if ready[i])
        state = {"shards": len(shards) - len(pending), "inputs": resumed_inputs}

        def on_shard(summary):
            if summary is not None:
                state["shards"] += 1
                state["inputs"] += summary["inputs"]
            if progress:
                progress({"shards_done": state["shards"], "shards": len(shards),
                          "inputs_done": state["inputs"], "inputs": len(names),
                          "resumed": len(shards) - len(pending),
                          "inputs_resumed": resumed_inputs,
                          "elapsed": time.monotonic() - t0, "shard": summary})

        on_shard(None)
        summaries = run_shards(client, plugin.name, pending, out_dir, output, skip_errors,
                               retries, on_shard)
    finally:
        _unregister(client, plugin.name)
        for thing in owned:
            thing.close()

    # Every shard is committed: clear what dead writers left, then commit the job.
    for path in _files.stale_tmp_files(out_dir):
        try:
            os.unlink(path)
        except OSError:
            pass
    counts = {i: ready[i] for i in ready if ready[i]}
    for s in summaries:
        counts[s["index"]] = {"rows": s["rows"], "skipped": s["skipped"]}
    entries = []
    for i, part in shards:
        entries.append({"index": i, "name": _files.shard_name(i),
                        "first": i * shard_size, "inputs": len(part),
                        "rows": counts[i]["rows"], "skipped": counts[i]["skipped"]})
    manifest = dict(job)
    manifest.update({
        "vitc_version": __version__,
        "output": job["output_name"],
        "output_requested": output,
        "dtype": "float32",
        "shards": entries,
        "totals": {"inputs": len(names), "rows": sum(e["rows"] for e in entries),
                   "skipped": sum(e["skipped"] for e in entries), "shards": len(entries)},
        "completed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    del manifest["output_name"]
    _files.write_json(os.path.join(out_dir, _files.MANIFEST), manifest)
    _files.fsync_dir(out_dir)
    return dict(manifest, run={"computed": summaries, "resumed": len(shards) - len(pending),
                               "workers": reports, "seconds": time.monotonic() - t0})
