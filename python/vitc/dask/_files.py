# SPDX-License-Identifier: MIT
"""The output directory of a vitc.dask job, and nothing else: file names, the
streaming .npy writer, atomic commits (temporary name, fsync, rename), the
test for a committed shard, job.json / manifest.json, and load(). Plain
Python and numpy: no Dask, no library calls, so the driver, the workers and
a reader of the results share one definition of the layout.

    OUT/job.json                  what the job is (model, output, inputs digest,
                                  shard size): written first, checked on rerun
    OUT/shard-00000.npy           float32 [rows, *row_shape], in input order
    OUT/shard-00000.errors.txt    PATH<TAB>reason of skipped inputs (skip_errors)
    OUT/shard-00000.paths.txt     the input of each row; renamed last: the
                                  shard's commit
    OUT/manifest.json             written last: the job's commit

Temporary files are hidden (".shard-00000.npy.tmp-HOST-PID-RANDOM"), so a
dead writer's leftovers never look like results."""

import json
import os
import secrets
import socket

import numpy as np

from .._errors import FileError, FormatError

JOB = "job.json"
MANIFEST = "manifest.json"
FORMAT = "vitc.dask/1"

_NPY_HEADER = 128  # bytes: fixed, so the row count is rewritten in place at the end


def shard_name(index):
    return "shard-%05d" % index


def shard_files(out_dir, index):
    """(npy, paths, errors) paths of shard index."""
    base = os.path.join(out_dir, shard_name(index))
    return base + ".npy", base + ".paths.txt", base + ".errors.txt"


def tmp_name(path):
    """A hidden temporary name beside path, unique to this process and call."""
    d, b = os.path.split(path)
    return os.path.join(d, ".%s.tmp-%s-%d-%s" % (b, socket.gethostname(), os.getpid(),
                                                  secrets.token_hex(4)))


def is_tmp(name):
    return name.startswith(".") and ".tmp-" in name


def fsync_dir(path):
    """Makes the renames in directory path durable (best effort: some file
    systems refuse to fsync a directory)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- .npy ----------------------------------------------------------------------------------


def _npy_header(rows, row_shape):
    shape = (rows,) + tuple(row_shape)
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': %r, }" % (shape,)
    text = text.ljust(_NPY_HEADER - 10 - 1) + "\n"
    if len(text) != _NPY_HEADER - 10:
        raise ValueError("row shape %r is too long for a .npy header" % (row_shape,))
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


class NpyWriter:
    """A float32 .npy written row block by row block under a temporary name;
    commit() fixes the row count in the header and renames it into place,
    discard() removes it. Memory does not grow with the rows."""

    def __init__(self, path, row_shape):
        self.path, self.row_shape, self.rows = path, tuple(row_shape), 0
        self.tmp = tmp_name(path)
        self._f = open(self.tmp, "xb")
        self._f.write(_npy_header(0, self.row_shape))

    def append(self, block):
        block = np.ascontiguousarray(block, dtype="<f4")
        if block.shape[1:] != self.row_shape:
            raise ValueError("%s: rows of shape %r, expected %r"
                             % (self.path, block.shape[1:], self.row_shape))
        self._f.write(block.tobytes())
        self.rows += block.shape[0]

    def commit(self):
        self._f.seek(0)
        self._f.write(_npy_header(self.rows, self.row_shape))
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        os.replace(self.tmp, self.path)

    def discard(self):
        if not self._f.closed:
            self._f.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


def npy_rows(path):
    """The row count in a .npy's header (float32 C order, as written here), or
    None when the file is missing or is not such a .npy."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version != (1, 0):
                return None
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    except (OSError, ValueError):
        return None
    if fortran or dtype != np.dtype("<f4") or not shape:
        return None
    return shape[0]


# ---- text files -------------------------------------------------------------------------------


def write_atomic(path, data):
    """Writes bytes to path through a temporary name, fsync and rename."""
    tmp = tmp_name(path)
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def lines_bytes(names):
    """Names one per line, as paths.txt holds them (file names as bytes, so any
    name the file system allows comes back unchanged)."""
    return b"".join(os.fsencode(n) + b"\n" for n in names)


def read_lines(path):
    with open(path, "rb") as f:
        return [os.fsdecode(line) for line in f.read().split(b"\n") if line]


def count_lines(path):
    """Lines in a text file, 0 when it does not exist."""
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def write_json(path, obj):
    write_atomic(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def read_json(path):
    """The JSON object in path, None when the file does not exist; FormatError
    naming the file when it is not JSON."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise FileError("%s: cannot read: %s" % (path, e.strerror)) from None
    try:
        obj = json.loads(data)
    except ValueError as e:
        raise FormatError("%s: not valid JSON: %s" % (path, e)) from None
    if not isinstance(obj, dict):
        raise FormatError("%s: not a JSON object" % path)
    return obj


# ---- shards -----------------------------------------------------------------------------------


def committed(out_dir, index, n_inputs, skip_errors):
    """The shard's {"rows", "skipped"} when it is committed for n_inputs
    inputs, else None: paths.txt present (renamed last), the .npy's rows and
    the skipped inputs adding up to n_inputs. A shard that skipped inputs
    counts only when skip_errors is on now (without it, those inputs must
    fail the job)."""
    npy, paths, errors = shard_files(out_dir, index)
    if not os.path.exists(paths):
        return None
    rows = npy_rows(npy)
    skipped = count_lines(errors)
    if rows is None or rows + skipped != n_inputs or (skipped and not skip_errors):
        return None
    return {"rows": rows, "skipped": skipped}


def stale_tmp_files(out_dir):
    """Temporary files left in out_dir by writers that died."""
    try:
        names = os.listdir(out_dir)
    except OSError:
        return []
    return [os.path.join(out_dir, n) for n in names if is_tmp(n)]


# ---- reading a finished job -----------------------------------------------------------------


def read_manifest(out_dir):
    """The manifest of a completed job; FileError when out_dir has none."""
    path = os.path.join(os.fspath(out_dir), MANIFEST)
    manifest = read_json(path)
    if manifest is None:
        if not os.path.isdir(out_dir):
            raise FileError("%s: no such directory" % os.fsdecode(out_dir))
        raise FileError("%s: no %s: the job has not completed (run it again on the same "
                        "out_dir to finish it)" % (os.fsdecode(out_dir), MANIFEST))
    if manifest.get("format") != FORMAT:
        raise FormatError("%s: format %r, expected %r" % (path, manifest.get("format"), FORMAT))
    return manifest


def load(out_dir, paths=True):
    """The result of a completed job: (array, paths). array is a dask array of
    float32 [N, *row_shape] over the shards' .npy files memory-mapped read-only,
    one chunk per shard, rows in input order: nothing is read until it is
    computed or sliced (np.asarray(array) or array.compute() for a numpy copy,
    array[i:j].compute() for a part). paths is the input of each row (list of
    str), or None with paths=False (for collections too big to list in
    memory: each shard's paths.txt holds its part)."""
    import dask
    import dask.array as da

    out_dir = os.fspath(out_dir)
    manifest = read_manifest(out_dir)
    row_shape = tuple(manifest["row_shape"])
    blocks, names = [], []
    for shard in manifest["shards"]:
        npy, paths_txt, _ = shard_files(out_dir, shard["index"])
        rows = npy_rows(npy)
        if rows != shard["rows"]:
            raise FormatError("%s: %s rows, the manifest says %d" % (
                npy, "no readable" if rows is None else rows, shard["rows"]))
        if rows == 0:
            continue
        blocks.append(da.from_delayed(dask.delayed(_open_npy, pure=True)(npy),
                                      (rows,) + row_shape, dtype=np.float32))
        if paths:
            part = read_lines(paths_txt)
            if len(part) != rows:
                raise FormatError("%s: %d lines for %d rows" % (paths_txt, len(part), rows))
            names.extend(part)
    if blocks:
        array = da.concatenate(blocks, axis=0)
    else:
        array = da.zeros((0,) + row_shape, dtype=np.float32)
    return array, (names if paths else None)


def _open_npy(path):
    return np.load(path, mmap_mode="r", allow_pickle=False)
