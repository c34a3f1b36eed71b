# SPDX-License-Identifier: MIT
"""vitc.dask: embed image collections larger than one machine on a Dask
distributed cluster, sharded, resumable, with nothing lost or duplicated when
a worker dies. Needs the distributed package (Debian: python3-distributed).

    import vitc.dask
    vitc.dask.embed(["photos/"], "vit-base-patch16-224-in21k", "emb/",
                    client="tcp://scheduler:8786", recursive=True)
    array, paths = vitc.dask.load("emb/")     # dask array [N, 768], row i is paths[i]

or from a shell: python3 -m vitc.dask MODEL INPUT... -o OUT_DIR --scheduler ADDR
(--local N for a cluster of N worker processes on this machine).

The inputs are listed and ordered as `vitc embed` lists them, then cut into
shards of shard_size consecutive inputs. Each shard is a task: a worker
embeds it with the model it loaded once for its process (a WorkerPlugin;
the weights never go through the scheduler) and commits it in out_dir as
shard-NNNNN.npy + .paths.txt (+ .errors.txt), written under temporary names
and renamed. manifest.json, written when every shard is committed, is the
commit of the whole job. Running the same job again on the same out_dir
skips committed shards (resume); a shard whose worker died is run again on
another. Inputs, model and out_dir must be on storage every worker sees at
the same path."""

try:
    import distributed as _distributed  # noqa: F401  (a clear message when it is missing)
except ImportError as _e:
    raise ImportError("vitc.dask needs Dask distributed (Debian: apt install "
                      "python3-distributed; pip: pip install distributed): %s" % _e) from None

from ._files import load as _load
from ._job import embed as _embed
from ._job import list_inputs


def embed(inputs, model, out_dir, client=None, output=None, shard_size=1000, batch=8,
          threads_per_worker=None, precision="fp32", skip_errors=False, recursive=False,
          list_file=None, device="cpu", retries=2, timeout=30, revision=None, cache_dir=None,
          progress=None):
    """Embeds every input on a Dask cluster into out_dir; returns the manifest
    (a dict, as written to out_dir/manifest.json) with a "run" entry added:
    the shards computed now (worker, pid, threads, seconds each) and the
    number resumed.

    inputs: an image path, a directory or a list of them (directories give
      their JPEG/PNG files; recursive=True walks subdirectories); list_file:
      a file naming one input per line ("-": stdin), taken after inputs.
    model: a model directory, or a hub repo id ("ORG/NAME", with revision and
      cache_dir as for vitc.Model) that each worker finds in its cache or
      downloads; the driver resolves it too, to record its revision and the
      SHA-256 of its files.
    out_dir: created if needed. A rerun with the same inputs, model, output,
      precision and shard_size resumes the job there; another job there is
      refused.
    client: a distributed.Client, a scheduler address ("tcp://host:8786",
      reached within timeout seconds), or None for the default client, else
      a LocalCluster of one worker process running one shard at a time on
      every core, closed afterwards.
    output: pooler_output, cls, last_hidden_state, logits or pixel_values
      (None: pooler_output when the model has a pooler, else cls).
    shard_size: consecutive inputs per shard (a task and its files); batch:
      images per forward pass; threads_per_worker: vitc's compute threads in
      each worker process (None: the worker's Dask thread count, i.e. its
      --nthreads); precision and device as for vitc.Model.
    skip_errors: unreadable inputs are listed in the shard's .errors.txt
      (PATH<TAB>reason) and get no row; without it the first one fails the
      job, naming it. retries: reruns of a shard whose task raised (a file
      system error, say); a shard whose worker died is rescheduled by Dask
      (up to distributed.scheduler.allowed-failures, default 3, deaths).
    progress: None, or a callable given a dict after each shard (shards_done,
      shards, inputs_done, inputs, resumed, inputs_resumed, elapsed, shard).

    Failures raise with the cause named: vitc.FileError for out_dir or an
    input, vitc.FormatError for an undecodable image, ConnectionError for an
    unreachable scheduler, the library's error when the model does not load
    on the workers, RuntimeError when workers keep dying. No manifest.json is
    written then; committed shards stay for the rerun."""
    return _embed(inputs, model, out_dir, client=client, output=output, shard_size=shard_size,
                  batch=batch, threads_per_worker=threads_per_worker, precision=precision,
                  skip_errors=skip_errors, recursive=recursive, list_file=list_file,
                  device=device, retries=retries, timeout=timeout, revision=revision,
                  cache_dir=cache_dir, progress=progress)


def load(out_dir, paths=True):
    """The result of a completed job as (array, paths): array a dask array of
    float32 [N, *row_shape] whose chunks are the shards' .npy files,
    memory-mapped read-only (nothing is copied until computed: np.asarray(array)
    or array.compute() gives a numpy array, array[i:j].compute() a part); paths
    the input of each row, in input order (None with paths=False). FileError
    when out_dir has no manifest.json (the job did not complete)."""
    return _load(out_dir, paths)


__all__ = ["embed", "load", "list_inputs"]
