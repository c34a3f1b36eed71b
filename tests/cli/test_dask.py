# SPDX-License-Identifier: MIT
"""pytest suite of vitc.dask, run by tests/cli/test_dask.sh: a LocalCluster on
127.0.0.1 (2 worker processes x 1 thread) embeds a few hundred images made
here from the fixture images, and the result must equal `vitc embed` over the
same inputs bit for bit. Then the faults: a worker SIGKILLed while a shard is
half written, a job interrupted and rerun, unreadable images with and without
skip_errors, an unreachable scheduler, an unwritable out_dir, a model that
does not load on the workers, another job's out_dir; and the thread count
vitc really runs inside a worker. Nothing here times anything."""

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

distributed = pytest.importorskip("distributed")

import vitc  # noqa: E402
import vitc.dask  # noqa: E402
from vitc.dask import _files  # noqa: E402

import dask_faults  # noqa: E402  (tests/cli, on the workers' PYTHONPATH too)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "tests", "data", "models", "tiny-in21k")
FIXTURES = os.path.join(ROOT, "tests", "data", "preprocess", "images")
CLI = os.environ.get("VITC_CLI", os.path.join(ROOT, "build", "vitc"))
SHARD = 16


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def run_cli(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=300, **kw)


# ---- fixtures: images, the reference run, the cluster --------------------------------------------


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("dask")


@pytest.fixture(scope="module")
def collection(work):
    """A tree of 238 JPEG/PNG images (crops and resizes of the fixture images,
    256 to 640 pixels wide, in nested directories) and a list file naming 6
    more: ([inputs], list file)."""
    tree = work / "photos"
    sources = [n for n in sorted(os.listdir(FIXTURES)) if n.endswith((".jpg", ".png"))]
    k = 0
    for s, name in enumerate(sources):
        with Image.open(os.path.join(FIXTURES, name)) as im:
            im = im.convert("RGB")
            for j in range(14):
                w, h = im.size
                box = (j * w // 40, j * h // 50, w - j * w // 60, h - j * h // 70)
                crop = im.crop(box) if box[2] > box[0] and box[3] > box[1] else im
                side = 256 + 32 * ((s + j) % 12)
                crop = crop.resize((side, max(1, side * 3 // 4)))
                d = tree / ("set%d" % (k % 5)) / ("part%d" % (k % 3))
                d.mkdir(parents=True, exist_ok=True)
                if j % 3 == 2:
                    crop.save(d / ("img%03d.png" % k))
                else:
                    crop.save(d / ("img%03d.jpg" % k), quality=60 + j)
                k += 1
    extra = work / "extra"
    extra.mkdir()
    names = []
    for name in sources[:6]:
        shutil.copy(os.path.join(FIXTURES, name), extra / name)
        names.append(str(extra / name))
    listing = work / "list.txt"
    listing.write_text("\n".join(names[:3]) + "\n\n  \n" + "\r\n".join(names[3:]) + "\r\n")
    return [str(tree)], str(listing)


@pytest.fixture(scope="module")
def reference(work, collection):
    """`vitc embed` over the collection: (array, paths)."""
    inputs, listing = collection
    out = str(work / "ref.npy")
    r = run_cli(CLI, "embed", MODEL, *inputs, "--recursive", "--list", listing, "-o", out,
                "--quiet")
    assert r.returncode == 0, r.stderr
    with open(out + ".paths.txt") as f:
        paths = f.read().splitlines()
    assert len(paths) == 244
    return np.load(out), paths


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    c = distributed.Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


def embed(collection, out_dir, client, **kw):
    inputs, listing = collection
    kw.setdefault("shard_size", SHARD)
    kw.setdefault("batch", 4)
    return vitc.dask.embed(inputs, MODEL, str(out_dir), client=client, recursive=True,
                           list_file=listing, **kw)


@pytest.fixture(scope="module")
def clean(work, collection, client):
    """A clean run of the whole collection: (out_dir, manifest)."""
    out = work / "clean"
    return str(out), embed(collection, out, client)


def shard_state(out_dir):
    """{file name: (inode, mtime_ns)} of the committed shards' files."""
    state = {}
    for name in sorted(os.listdir(out_dir)):
        if name.startswith("shard-"):
            st = os.stat(os.path.join(out_dir, name))
            state[name] = (st.st_ino, st.st_mtime_ns)
    return state


# ---- the result ---------------------------------------------------------------------------------


def test_equals_vitc_embed(clean, reference):
    out, manifest = clean
    array, paths = vitc.dask.load(out)
    ref, ref_paths = reference
    assert paths == ref_paths
    assert same_bits(array, ref)
    assert array.chunks[0] == tuple([SHARD] * 15 + [4])  # one chunk per shard
    assert manifest["totals"] == {"inputs": 244, "rows": 244, "skipped": 0, "shards": 16}
    assert manifest["run"]["resumed"] == 0 and len(manifest["run"]["computed"]) == 16


def test_manifest_records_the_job(clean):
    out, _ = clean
    with open(os.path.join(out, "manifest.json")) as f:
        m = json.load(f)
    assert m["format"] == "vitc.dask/1" and "run" not in m
    assert m["output"] == "pooler_output" and m["precision"] == "fp32"
    assert m["dtype"] == "float32" and m["row_shape"] == [32]
    assert m["model"]["path"] == MODEL and m["model"]["id"] == MODEL
    assert set(m["model"]["sha256"]) == {"config.json", "preprocessor_config.json",
                                         "model.safetensors"}
    assert [s["name"] for s in m["shards"]] == ["shard-%05d" % i for i in range(16)]
    assert [s["first"] for s in m["shards"]] == list(range(0, 244, SHARD))
    assert sum(s["rows"] for s in m["shards"]) == m["totals"]["rows"] == 244
    assert not [n for n in os.listdir(out) if _files.is_tmp(n)]


def test_model_loaded_once_per_worker_process(clean):
    computed = clean[1]["run"]["computed"]
    loads = {}
    for s in computed:
        loads.setdefault(s["pid"], set()).add(s["load_id"])
    assert len(loads) == 2, loads  # both workers worked
    assert all(len(ids) == 1 for ids in loads.values()), loads
    # The workers have Dask's one thread each, and vitc takes that count.
    assert {s["n_threads"] for s in computed} == {1}


def test_load_without_paths_and_slices(clean, reference):
    array, paths = vitc.dask.load(clean[0], paths=False)
    assert paths is None
    assert same_bits(array[20:40].compute(scheduler="sync"), reference[0][20:40])


def test_cli_on_a_scheduler(work, collection, client, reference):
    inputs, listing = collection
    out = str(work / "cli")
    r = run_cli(sys.executable, "-m", "vitc.dask", MODEL, *inputs, "--recursive", "--list",
                listing, "-o", out, "--scheduler", client.scheduler.address,
                "--shard-size", "50", "--timeout", "20")
    assert r.returncode == 0, r.stderr
    assert "wrote %s: pooler_output [244, 32] float32 from 244 inputs in 5 shards" % out \
        in r.stderr
    assert "\r" not in r.stderr  # no progress line off a terminal
    array, paths = vitc.dask.load(out)
    assert paths == reference[1] and same_bits(array, reference[0])


def test_cli_interrupted_then_resumed(work, collection, client, reference):
    inputs, listing = collection
    out = work / "cli-interrupted"
    cmd = [sys.executable, "-m", "vitc.dask", MODEL, *inputs, "--recursive", "--list", listing,
           "-o", str(out), "--scheduler", client.scheduler.address, "--shard-size", "2",
           "--batch", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # job.json appears once the workers have the model, just before the 122 shards run.
        for _ in range(12000):
            if (out / "job.json").exists() or proc.poll() is not None:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted; committed shards stay in %s: run the same command again" % out in err
    assert not (out / "manifest.json").exists()
    r = run_cli(*cmd)
    assert r.returncode == 0, r.stderr
    assert re.search(r"in 122 shards \(\d+ resumed\)", r.stderr), r.stderr
    array, paths = vitc.dask.load(str(out))
    assert paths == reference[1] and same_bits(array, reference[0])


def test_default_client_is_a_local_cluster_on_every_core(work):
    m = vitc.dask.embed(FIXTURES, MODEL, str(work / "default"), shard_size=5)
    assert m["totals"]["rows"] == 17
    assert {w["n_threads"] for w in m["run"]["workers"].values()} == {len(os.sched_getaffinity(0))}


def test_progress_line():
    from vitc.dask.__main__ import Progress
    buf = io.StringIO()
    bar = Progress(buf)
    bar({"shards_done": 3, "shards": 4, "inputs_done": 30, "inputs": 40, "resumed": 1,
         "inputs_resumed": 10, "elapsed": 2.0, "shard": None})
    bar({"shards_done": 4, "shards": 4, "inputs_done": 40, "inputs": 40, "resumed": 1,
         "inputs_resumed": 10, "elapsed": 3.0, "shard": None})
    text = buf.getvalue()
    assert "shards 3/4  images 30/40  10.0 images/s 0m01s left" in text
    assert text.endswith("shards 4/4  images 40/40  10.0 images/s")


# ---- threads ------------------------------------------------------------------------------------


def test_threads_per_worker_is_what_vitc_runs(work, collection, client):
    env = client.run(lambda: os.environ.get("OMP_NUM_THREADS"))
    assert set(env.values()) == {"1"}  # what Dask tells numerical libraries
    m = embed(collection, work / "threads", client, shard_size=61, threads_per_worker=2)
    assert {s["n_threads"] for s in m["run"]["computed"]} == {2}
    assert {w["n_threads"] for w in m["run"]["workers"].values()} == {2}


# ---- a worker dies mid-shard ----------------------------------------------------------------


def test_worker_killed_mid_shard(work, collection, client, clean, reference):
    out = work / "fault"
    out.mkdir()
    marker = str(work / "killed.json")
    client.register_worker_plugin(dask_faults.KillMidShard(str(out), marker, after=2))
    try:
        m = embed(collection, out, client, batch=2)
    finally:
        client.unregister_worker_plugin(dask_faults.KillMidShard.name)
    with open(marker) as f:
        killed = json.load(f)
    print("killed worker pid %d in %s with %d of its rows written"
          % (killed["pid"], _files.shard_name(killed["index"]), killed["rows"]))
    assert killed["rows"] == 2 and killed["tmp_size"] == 128 + 2 * 32 * 4  # half written
    # The job completed, every input once, in order, equal to the clean run.
    array, paths = vitc.dask.load(str(out))
    assert paths == reference[1] and len(set(paths)) == 244
    assert same_bits(array, reference[0])
    # The killed shard was computed again by another process, and equals its clean run.
    redone = [s for s in m["run"]["computed"] if s["index"] == killed["index"]]
    assert len(redone) == 1 and redone[0]["computed"] and redone[0]["pid"] != killed["pid"]
    npy, txt, _ = _files.shard_files(str(out), killed["index"])
    npy0, txt0, _ = _files.shard_files(clean[0], killed["index"])
    assert same_bits(np.load(npy), np.load(npy0))
    assert open(txt, "rb").read() == open(txt0, "rb").read()
    # The dead writer's temporary file is gone.
    assert not [n for n in os.listdir(out) if _files.is_tmp(n)]
    client.wait_for_workers(2, timeout=60)


# ---- interrupted, then resumed ---------------------------------------------------------------


class Interrupt(Exception):
    pass


def test_interrupted_then_resumed(work, collection, client, reference):
    out = work / "resume"

    def stop_after_4(p):
        if p["shards_done"] >= 4:
            raise Interrupt()

    with pytest.raises(Interrupt):
        embed(collection, out, client, progress=stop_after_4)
    assert not os.path.exists(out / "manifest.json")
    before = shard_state(out)
    committed = {n[:11] for n in before if n.endswith(".paths.txt")}
    assert len(committed) >= 4

    m = embed(collection, out, client)
    after = shard_state(out)
    for name, st in before.items():
        if name[:11] in committed:
            assert after[name] == st, name  # committed shards untouched: same inode and mtime
    assert m["run"]["resumed"] >= 4
    assert not committed & {_files.shard_name(s["index"]) for s in m["run"]["computed"]}
    assert m["run"]["resumed"] + len(m["run"]["computed"]) == 16
    array, paths = vitc.dask.load(str(out))
    assert paths == reference[1] and same_bits(array, reference[0])

    # A complete job reruns as a no-op.
    again = embed(collection, out, client)
    assert again["run"]["computed"] == [] and shard_state(out) == after


def test_another_job_in_out_dir_is_refused(collection, client, clean):
    with pytest.raises(vitc.InvalidArgumentError, match=r"job.json: holds another job "
                       r"\(shard_size differ"):
        embed(collection, clean[0], client, shard_size=SHARD + 1)
    with pytest.raises(vitc.InvalidArgumentError, match="precision"):
        embed(collection, clean[0], client, precision="bf16")


def test_load_refuses_an_incomplete_job(work):
    (work / "incomplete").mkdir()
    with pytest.raises(vitc.FileError, match="no manifest.json: the job has not completed"):
        vitc.dask.load(str(work / "incomplete"))
    with pytest.raises(vitc.FileError, match="no such directory"):
        vitc.dask.load(str(work / "absent"))


# ---- bad inputs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_bad_image(work):
    d = work / "bad"
    d.mkdir()
    for i, name in enumerate(sorted(os.listdir(FIXTURES))[:9]):
        shutil.copy(os.path.join(FIXTURES, name), d / ("%02d_%s" % (i, name)))
    (d / "05_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    return str(d)


def test_unreadable_image_fails_the_job(work, with_bad_image, client):
    out = work / "bad-strict"
    with pytest.raises(vitc.VitcError, match="05_broken.jpg"):
        vitc.dask.embed(with_bad_image, MODEL, str(out), client=client, shard_size=4)
    assert not os.path.exists(out / "manifest.json")


def test_unreadable_image_skipped(work, with_bad_image, client):
    out = str(work / "bad-skip")
    m = vitc.dask.embed(with_bad_image, MODEL, out, client=client, shard_size=4,
                        skip_errors=True)
    assert m["totals"] == {"inputs": 10, "rows": 9, "skipped": 1, "shards": 3}
    ref = str(work / "bad-ref.npy")
    r = run_cli(CLI, "embed", MODEL, with_bad_image, "-o", ref, "--skip-errors", "--quiet")
    assert r.returncode == 0, r.stderr
    array, paths = vitc.dask.load(out)
    assert same_bits(array, np.load(ref))
    assert paths == open(ref + ".paths.txt").read().splitlines()
    with open(os.path.join(out, "shard-00001.errors.txt")) as f:
        errors = f.read()
    with open(ref + ".errors.txt") as f:
        assert errors == f.read()
    assert errors.startswith(os.path.join(with_bad_image, "05_broken.jpg") + "\t")
    # Without skip_errors, the completed job's skips are not silently accepted.
    with pytest.raises(vitc.InvalidArgumentError, match="skipped 1 unreadable"):
        vitc.dask.embed(with_bad_image, MODEL, out, client=client, shard_size=4)


def test_missing_listed_file(work, client):
    listing = work / "missing.txt"
    listing.write_text(os.path.join(FIXTURES, "rgb.png") + "\n" + str(work / "nope.jpg") + "\n")
    out = work / "missing"
    with pytest.raises(vitc.FileError, match="nope.jpg"):
        vitc.dask.embed([], MODEL, str(out), client=client, list_file=str(listing))
    assert not os.path.exists(out / "manifest.json")


def test_npy_inputs_refused(work):
    with pytest.raises(vitc.InvalidArgumentError, match="embeds image files"):
        vitc.dask.embed(os.path.join(MODEL, "inputs.pixel_values.npy"), MODEL,
                        str(work / "npy"))


# ---- unusable cluster, out_dir or model ------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler(work):
    address = "tcp://127.0.0.1:%d" % free_port()
    out = work / "unreachable"
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler at " + address):
        vitc.dask.embed(FIXTURES, MODEL, str(out), client=address, timeout=2)
    assert not os.path.exists(out / "manifest.json")
    r = run_cli(sys.executable, "-m", "vitc.dask", MODEL, FIXTURES, "-o", str(out),
                "--scheduler", address, "--timeout", "2")
    assert r.returncode == 1
    assert "cannot reach the Dask scheduler at " + address in r.stderr
    assert not os.path.exists(out / "manifest.json")


def test_out_dir_not_writable(work, client):
    blocker = work / "a-file"
    blocker.write_text("not a directory")
    out = str(blocker / "out")  # root may write anywhere, but not below a regular file
    with pytest.raises(vitc.FileError, match="a-file/out: cannot create the output directory: "
                       "Not a directory"):
        vitc.dask.embed(FIXTURES, MODEL, out, client=client)
    with pytest.raises(vitc.FileError, match="a-file: .*(exists|not a directory)"):
        vitc.dask.embed(FIXTURES, MODEL, str(blocker), client=client)
    r = run_cli(sys.executable, "-m", "vitc.dask", MODEL, FIXTURES, "-o", out, "--scheduler",
                client.scheduler.address)
    assert r.returncode == 1 and "Not a directory" in r.stderr


def test_model_fails_to_load_on_workers(work, client):
    broken = work / "broken-model"
    shutil.copytree(MODEL, broken)
    with open(broken / "model.safetensors", "r+b") as f:
        f.truncate(200)  # the header promises more than the file holds
    out = work / "broken-out"
    with pytest.raises(vitc.VitcError, match="the model failed to load on the Dask workers: "
                       ".*model.safetensors"):
        vitc.dask.embed(FIXTURES, str(broken), str(out), client=client)
    assert not os.path.exists(out / "manifest.json")
    assert not os.path.exists(out / "job.json")
    # Nothing stays loaded on the workers.
    plugins = client.run(lambda dask_worker: sorted(dask_worker.plugins))
    assert not [p for ps in plugins.values() for p in ps if p.startswith("vitc-model-")]


def test_output_the_model_lacks(work, client):
    out = work / "no-logits"
    with pytest.raises(vitc.UnsupportedError, match="has no logits"):
        vitc.dask.embed(FIXTURES, MODEL, str(out), client=client, output="logits")
    assert not os.path.exists(out / "job.json")
    with pytest.raises(vitc.InvalidArgumentError, match="output: expected one of"):
        vitc.dask.embed(FIXTURES, MODEL, str(out), client=client, output="tokens")
