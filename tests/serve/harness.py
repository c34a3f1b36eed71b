# SPDX-License-Identifier: MIT
"""harness.py — what the `vitc serve` tests share: starting a server on 127.0.0.1 with
--port 0 and reading its URL line (bounded in time), stopping it with SIGTERM, the ok/FAIL
counters with the closing "N passed, N failed" line, and `vitc embed` references to compare
the server's numbers with, bit for bit."""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", "build")
VITC = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
VITC = os.path.join(VITC, "vitc")
MODELS = os.path.join(ROOT, "tests/data/models")
IN21K = os.path.join(MODELS, "tiny-in21k")
CLASSIFIER = os.path.join(MODELS, "tiny-classifier")
# A CLIP vision tower with projection: its default output is image_embeds.
CLIP = os.path.join(ROOT, "tests/data/family/models/clip")
IMAGE_DIR = os.path.join(ROOT, "tests/data/preprocess/images")
IMAGES = [os.path.join(ROOT, "data/sample.jpg")] + sorted(
    os.path.join(IMAGE_DIR, f) for f in os.listdir(IMAGE_DIR) if f.endswith((".jpg", ".png")))

passed = 0
failed = 0


def check(desc, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {desc}", flush=True)
    else:
        failed += 1
        print(f"FAIL {desc}{': ' + str(detail) if detail else ''}", flush=True)
    return cond


def finish():
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(0 if failed == 0 else 1)


class Server:
    """`vitc serve ARGS --port 0` in the background; .url once it listens; stderr kept in
    .log. stop() sends SIGTERM and returns the exit status (killed after a bound)."""

    def __init__(self, *args, env=None, start_timeout=60):
        self.err = tempfile.TemporaryFile()
        cmd = [VITC, "serve", *args]
        if "--port" not in args:
            cmd += ["--port", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err,
                                     env=env, cwd=ROOT)
        self.url = None
        line = []

        def read():
            line.append(self.proc.stdout.readline().decode().strip())

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(start_timeout)
        if not line or not line[0].startswith("http://"):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"vitc serve did not start: {self.log()[-2000:]}")
        self.url = line[0]
        self.pid = self.proc.pid

    def log(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout=60):
        """The exit status once the server ends by itself (killed after the bound). Sends
        nothing: after a first SIGTERM, a second one ends `vitc serve` at once, by design."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def embed_reference(tmp, model, images, output):
    """Rows of `vitc embed MODEL IMAGES --output OUTPUT` as a float32 array."""
    out = os.path.join(tmp, f"ref.{os.path.basename(model)}.{output}.{len(images)}.npy")
    if not os.path.exists(out):
        subprocess.run([VITC, "embed", model, *images, "--output", output, "-o", out, "--quiet"],
                       check=True, timeout=300)
    return np.load(out)


def metric(text, name, model=None):
    """The value of a Prometheus sample (the first whose labels include model)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if model is None or f'model="{model}"' in line:
                return float(line.rsplit(" ", 1)[1])
    return None


def wait_until(pred, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
