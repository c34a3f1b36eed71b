# SPDX-License-Identifier: MIT
"""Fault injection for tests/cli/test_dask.py: a Dask WorkerPlugin that kills
its own worker process (SIGKILL, as the OOM killer or a lost machine would)
while a vitc.dask shard is half written. Imported by the workers, so it
lives on their PYTHONPATH (test_dask.sh puts tests/cli there)."""

import json
import os
import signal

from distributed import WorkerPlugin


class KillMidShard(WorkerPlugin):
    """Once `after` shards have finished on a worker, the next shard's first
    block of rows written to its temporary .npy (fewer rows than the shard
    holds: the shard is half done, not committed) records {pid, index,
    tmp_size, rows} in marker and SIGKILLs the worker. It hooks the shard
    writer (vitc.dask._files.NpyWriter.append) in the worker process, so the
    kill lands at that point whatever the machine's speed. The marker is
    created exclusively: one worker of the cluster dies, once (its
    replacement loads the plugin again and finds the marker)."""

    name = "vitc-test-kill-mid-shard"

    def __init__(self, out_dir, marker, after=1):
        self.out_dir, self.marker, self.after = out_dir, marker, after
        self.finished = 0
        self._original = None

    def setup(self, worker):
        from vitc.dask import _files

        plugin = self
        original = self._original = _files.NpyWriter.append

        def append(writer, block):
            original(writer, block)
            name = os.path.basename(writer.path)
            if plugin.finished >= plugin.after and name.startswith("shard-") and \
                    os.path.dirname(writer.path) == plugin.out_dir:
                writer._f.flush()
                plugin._die(int(name[6:11]), os.path.getsize(writer.tmp), writer.rows)

        _files.NpyWriter.append = append

    def teardown(self, worker):
        if self._original is not None:
            from vitc.dask import _files
            _files.NpyWriter.append = self._original

    def transition(self, key, start, finish, **kwargs):
        if str(key).startswith("vitc-shard-") and start == "executing" and finish == "memory":
            self.finished += 1

    def _die(self, index, size, rows):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return
        os.write(fd, json.dumps({"pid": os.getpid(), "index": index, "tmp_size": size,
                                 "rows": rows}).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
