# SPDX-License-Identifier: MIT
"""What runs on the Dask workers. ModelPlugin is a WorkerPlugin that loads the
model once per worker process, with its thread count set explicitly (Dask
starts workers with OMP_NUM_THREADS=1 and friends; vitc must not inherit a
count meant for another library), and frees it at teardown: only the
plugin's few settings travel through the scheduler, never the weights.
run_shard is the task: one shard of consecutive inputs embedded into its
files in out_dir, committed atomically (see _files), or found committed
already and left alone. describe() reports a worker's model to the driver."""

import concurrent.futures
import os
import secrets
import time

import numpy as np
from distributed import WorkerPlugin, get_worker

from .. import _model
from .._errors import VitcError
from . import _files


class ModelPlugin(WorkerPlugin):
    """Loads vitc.Model(model, ...) in setup() on every worker, current and
    future (a worker restarted after a crash loads it again). threads=None
    gives the model the worker's own thread count (Dask's --nthreads, by
    default the machine's cores divided among its worker processes)."""

    def __init__(self, name, model, precision, threads, batch, device, revision, cache_dir):
        self.name = name
        self.settings = dict(model=model, precision=precision, threads=threads, batch=batch,
                             device=device, revision=revision, cache_dir=cache_dir)
        self.model = None
        self.error = None
        self.load_id = None
        self._plans = {}

    def __getstate__(self):
        # What goes through the scheduler: the settings, never a loaded model.
        return {"name": self.name, "settings": self.settings}

    def __setstate__(self, state):
        self.__init__(state["name"], **state["settings"])

    def setup(self, worker):
        s = self.settings
        threads = s["threads"] or _worker_threads(worker)
        try:
            self.model = _model.Model(s["model"], device=s["device"], precision=s["precision"],
                                      threads=threads, max_batch=s["batch"], workers=threads,
                                      revision=s["revision"], cache_dir=s["cache_dir"])
        except Exception as e:
            self.error = "%s (%s)" % (e, type(e).__name__)
            raise
        # Tells the driver (and the tests) which load of the model each shard used.
        self.load_id = "%d-%s" % (os.getpid(), secrets.token_hex(4))

    def teardown(self, worker):
        if self.model is not None:
            self.model.close()
            self.model = None

    def plan(self, output):
        """(output name, row shape) for the requested output (None: the
        model's default), with Model.embed's own checks."""
        if output not in self._plans:
            info = self.model.info
            dummy = np.zeros((1, info["num_channels"], info["image_height"],
                              info["image_width"]), dtype=np.float32)
            _, _, row = self.model._plan(dummy, output, False)  # checks only, no forward
            name = output or ("pooler_output" if info["has_pooler"] else "cls")
            self._plans[output] = (name, tuple(row))
        return self._plans[output]


def _worker_threads(worker):
    state = getattr(worker, "state", None)
    return int(getattr(state, "nthreads", 0) or getattr(worker, "nthreads", 1) or 1)


def _plugin(name):
    """The loaded ModelPlugin of this worker; RuntimeError when it is missing
    or its model did not load."""
    worker = get_worker()
    plugin = worker.plugins.get(name)
    if plugin is None:
        raise RuntimeError("vitc.dask: worker %s has no model (worker plugin %s not "
                           "registered)" % (worker.address, name))
    if plugin.model is None:
        raise RuntimeError("vitc.dask: the model failed to load on worker %s: %s"
                           % (worker.address, plugin.error))
    return plugin


def describe(name, output, dask_worker=None):
    """For Client.run: this worker's model as the driver needs it, or why it is
    not there."""
    plugin = dask_worker.plugins.get(name)
    if plugin is None or plugin.model is None:
        return {"error": plugin.error if plugin else "worker plugin %s not registered" % name}
    try:
        output_name, row = plugin.plan(output)
    except VitcError as e:
        return {"error": e.message, "status": e.status}
    return {"output": output_name, "row_shape": list(row), "n_threads": plugin.model.n_threads,
            "load_id": plugin.load_id, "pid": os.getpid(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


# ---- the shard task ---------------------------------------------------------------------------


def _reason(name, message):
    """The reason of a library message "NAME: reason" (as `vitc embed` lists it)."""
    prefix = name + ": "
    return message[len(prefix):] if message.startswith(prefix) else message


def _prepare(model, names, skip_errors):
    """(kept names, float32 pixel_values [k,C,S,S] or None, [(name, reason)]) of
    a batch. Without skip_errors the first unusable input raises."""
    try:
        return names, model.preprocess(names), []
    except VitcError:
        if not skip_errors:
            raise
    kept, rows, errors = [], [], []
    for n in names:  # one by one, to learn which inputs fail
        try:
            rows.append(model.preprocess([n])[0])
            kept.append(n)
        except VitcError as e:
            errors.append((n, _reason(n, e.message)))
    return kept, (np.stack(rows) if rows else None), errors


def _batches(model, names, batch, skip_errors):
    """_prepare over names in batches, each decoded on a helper thread while the
    model runs the one before."""
    with concurrent.futures.ThreadPoolExecutor(1, "vitc-dask-decode") as ahead:
        starts = range(0, len(names), batch)
        pending = ahead.submit(_prepare, model, names[0:batch], skip_errors) if names else None
        for start in starts:
            current = pending.result()
            nxt = start + batch
            if nxt < len(names):
                pending = ahead.submit(_prepare, model, names[nxt:nxt + batch], skip_errors)
            yield current


def _write_shard(plugin, out_dir, index, names, output, skip_errors):
    """Embeds names into shard index's files and commits them; returns
    (rows, skipped)."""
    model = plugin.model
    output_name, row = plugin.plan(output)
    npy, paths, errors = _files.shard_files(out_dir, index)
    try:
        os.unlink(paths)  # uncommit a stale shard before its files change
    except FileNotFoundError:
        pass
    writer = _files.NpyWriter(npy, row)
    kept, skipped = [], []
    try:
        for ok, pv, errs in _batches(model, names, plugin.settings["batch"], skip_errors):
            if pv is not None:
                writer.append(model.embed(pv, output_name))
            kept.extend(ok)
            skipped.extend(errs)
        if skipped:
            _files.write_atomic(errors, b"".join(os.fsencode(n) + b"\t" + r.encode() + b"\n"
                                                 for n, r in skipped))
        elif os.path.exists(errors):
            os.unlink(errors)
        writer.commit()
        _files.write_atomic(paths, _files.lines_bytes(kept))  # the shard's commit
    finally:
        writer.discard()
    _files.fsync_dir(out_dir)
    return writer.rows, len(skipped)


def run_shard(plugin_name, index, names, out_dir, output, skip_errors):
    """The task: embeds shard index (its inputs' names, in order) into out_dir
    unless it is committed already. Returns a summary dict; an unusable input
    (without skip_errors) is returned as {"error": ...} rather than raised, so
    Dask does not retry what would fail again. Other failures (a file system
    error, a missing model) raise and are retried."""
    t0 = time.monotonic()
    done = _files.committed(out_dir, index, len(names), skip_errors)
    summary = {"index": index, "inputs": len(names)}
    if done:
        summary.update(done, computed=False)
        return summary
    plugin = _plugin(plugin_name)
    worker = get_worker()
    try:
        rows, skipped = _write_shard(plugin, out_dir, index, names, output, skip_errors)
    except VitcError as e:
        summary["error"] = {"status": e.status, "message": e.message}
        return summary
    summary.update(rows=rows, skipped=skipped, computed=True, worker=worker.address,
                   pid=os.getpid(), load_id=plugin.load_id, n_threads=plugin.model.n_threads,
                   seconds=round(time.monotonic() - t0, 3))
    return summary
