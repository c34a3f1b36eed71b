# SPDX-License-Identifier: MIT
"""test_faults.py — `vitc serve` against bad clients and bad starts: an undecodable image
among good concurrent ones, Content-Length lies, a chunked body over the limit, slowloris
connections (silent and trickling) while others are served, clients that disconnect
mid-upload and mid-response, a full queue (503 + Retry-After), the request timeout, a
missing or wrong API key, the port in use and an unloadable model (exit 1 before the URL)."""
import os
import socket
import subprocess
import tempfile
import threading
import time

import numpy as np
import requests

import harness as h
from harness import check
import v2client as v2

tmp = tempfile.mkdtemp(prefix="vitc-serve-faults.")
IMGS = h.IMAGES[:8]
raw = [open(p, "rb").read() for p in IMGS]
ref = h.embed_reference(tmp, h.IN21K, IMGS, "pooler_output")
M = "tiny-in21k"
big = open(os.path.join(h.IMAGE_DIR, "large_1920x1080.jpg"), "rb").read()


def hostport(url):
    host, port = url[len("http://"):].rsplit(":", 1)
    return host, int(port)


def raw_conn(url, timeout=10):
    s = socket.create_connection(hostport(url), timeout=timeout)
    return s


def closed_by_server(s, timeout):
    """Whether the server closes s (EOF or reset) within timeout seconds."""
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def embed_ok(url, i=0, timeout=30):
    r = requests.post(f"{url}/v2/models/{M}/embed", data=raw[i], timeout=timeout)
    return r.status_code == 200 and np.array_equal(
        np.array(r.json()["data"][0], dtype=np.float32), ref[i])


srv = h.Server(h.IN21K, "--max-batch", "8", "--max-delay-us", "50000", "--workers", "2",
               "--threads", "1", "--max-connections", "16", "--idle-timeout-s", "2",
               "--max-body-bytes", "3000000", "--request-timeout-ms", "20000")
U = srv.url

# ---- an undecodable image among good concurrent requests ----
res = [None] * 6
barrier = threading.Barrier(6)


def one(i):
    barrier.wait(30)
    data = [b"\xff\xd8\xff garbage, not a JPEG"] if i == 3 else [raw[i]]
    r = v2.infer(U, M, [("images", "BYTES", data)], outputs=["pooler_output"])
    res[i] = r


ts = [threading.Thread(target=one, args=(i,)) for i in range(6)]
[t.start() for t in ts]
[t.join(60) for t in ts]
good = all(res[i].status_code == 200 and np.array_equal(
    v2.parse_response(res[i])[1]["pooler_output"][0], ref[i]) for i in range(6) if i != 3)
check("undecodable image among 5 good concurrent requests: the good ones answered right", good)
check("... and the bad one gets 400 naming its element",
      res[3].status_code == 400 and "element 0" in res[3].json()["error"], res[3].text)

# ---- Content-Length lies ----
s = raw_conn(U)
s.sendall(b"POST /v2/models/tiny-in21k/embed HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
          + raw[0][:1000])
check("Content-Length larger than the body: closed after --idle-timeout-s",
      closed_by_server(s, 15))
s.close()
s = raw_conn(U)
s.sendall(b"POST /v2/models/tiny-in21k/embed HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
          + raw[0])
s.settimeout(15)
reply = b""
try:
    while b"\r\n\r\n" not in reply:
        d = s.recv(4096)
        if not d:
            break
        reply += d
except OSError:
    pass
s.close()
check("Content-Length smaller than the body: 400 for the 10 bytes read",
      reply.startswith(b"HTTP/1.1 400"), reply[:80])
check("still serving after the lies", embed_ok(U))

# ---- chunked body over the limit ----
s = raw_conn(U)
s.sendall(b"POST /v2/models/tiny-in21k/embed HTTP/1.1\r\nHost: x\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n")
closed = False
try:
    chunk = b"\0" * 65536
    for _ in range(80):  # 5 MiB, over --max-body-bytes 3000000
        s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
except OSError:
    closed = True
check("chunked body over --max-body-bytes: connection closed before the end",
      closed or closed_by_server(s, 10))
s.close()

# ---- slowloris ----
silent = [raw_conn(U) for _ in range(4)]
for c in silent:
    c.sendall(b"POST /v2/models/tiny-in21k/embed HTTP/1.1\r\nHost: x\r\nContent-Le")
trickle = [raw_conn(U) for _ in range(4)]
stop = threading.Event()


def trickler(c):
    msg = b"POST /v2/models/tiny-in21k/embed HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    try:
        for b in msg:
            if stop.is_set():
                return
            c.sendall(bytes([b]))
            time.sleep(0.3)
    except OSError:
        pass


tt = [threading.Thread(target=trickler, args=(c,), daemon=True) for c in trickle]
[t.start() for t in tt]
served = all(embed_ok(U, i % 8) for i in range(10))
check("8 slowloris connections (4 silent, 4 trickling): others are served meanwhile", served)
check("silent half-sent headers are closed after --idle-timeout-s",
      all(closed_by_server(c, 10) for c in silent))
stop.set()
for c in silent + trickle:
    c.close()

# ---- disconnects ----
for _ in range(5):
    s = raw_conn(U)
    s.sendall(b"POST /v2/models/tiny-in21k/embed HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n"
              + raw[0][:3000])
    s.close()
body, hd = v2.infer_request([("images", "BYTES", raw[:8])], outputs=["pixel_values"],
                            binary_outputs=False)
for _ in range(5):
    s = raw_conn(U)
    head = ("POST /v2/models/tiny-in21k/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
            "Inference-Header-Content-Length: %s\r\n\r\n" % (len(body), hd["Inference-Header-Content-Length"]))
    s.sendall(head.encode() + body)
    s.recv(100)  # the response has started
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    s.close()  # reset mid-response (the JSON of 8 pixel_values is ~300 KB)
check("clients that disconnect mid-upload and mid-response: still serving", embed_ok(U, 2))
log = srv.log()
check("... and the access log records the aborted requests", "client abort" in log
      or "error)" in log or "timeout)" in log, log[-400:])
rc = srv.stop()
check("exit 0 after the faults", rc == 0, rc)

# ---- full queue: 503 at once with Retry-After ----
srv = h.Server(h.IN21K, "--max-batch", "1", "--max-queue", "2", "--max-delay-us", "0",
               "--workers", "1", "--threads", "1", "--quiet")
codes, retry = [], []
lock = threading.Lock()
barrier = threading.Barrier(12)


def flood():
    barrier.wait(30)
    r = v2.infer(srv.url, M, [("images", "BYTES", [big])])
    with lock:
        codes.append(r.status_code)
        if r.status_code == 503:
            retry.append(r.headers.get("Retry-After") == "1" and "queue full" in r.json()["error"])


ts = [threading.Thread(target=flood) for _ in range(12)]
[t.start() for t in ts]
[t.join(120) for t in ts]
check(f"12 requests on --max-queue 2: {codes.count(200)} x 200, {codes.count(503)} x 503 "
      "(queue full), nothing else",
      len(codes) == 12 and codes.count(503) > 0 and codes.count(200) > 0
      and set(codes) <= {200, 503}, codes)
check("each 503 says queue full with Retry-After: 1", retry and all(retry))
m = requests.get(srv.url + "/metrics", timeout=10).text
check("metrics count the rejections", h.metric(m, "vitc_queue_rejected_total") == codes.count(503))
srv.stop()

# ---- request timeout ----
# A batch waits up to 3 s to fill, a request only 400 ms: alone, it times out while waiting.
srv = h.Server(h.IN21K, "--max-batch", "8", "--max-delay-us", "3000000",
               "--request-timeout-ms", "400", "--workers", "1", "--threads", "1", "--quiet")
r = requests.post(f"{srv.url}/v2/models/{M}/embed", data=raw[1], timeout=30)
check("--request-timeout-ms: a request waiting longer gets 503 naming the timeout",
      r.status_code == 503 and "request-timeout-ms" in r.json()["error"]
      and r.headers.get("Retry-After") == "1", r.text)
m = requests.get(srv.url + "/metrics", timeout=10).text
check("metrics count the timeout", h.metric(m, "vitc_request_timeouts_total") == 1)
s = raw_conn(srv.url)
s.sendall(b"POST /v2/models/tiny-in21k/embed HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
cut = False
try:
    for _ in range(40):  # a byte every 0.1 s: never silent, but slower than the timeout
        s.sendall(b"x")
        time.sleep(0.1)
except OSError:
    cut = True
check("a body trickled for longer than --request-timeout-ms is cut off",
      cut or closed_by_server(s, 5))
s.close()
srv.stop()

# ---- API key ----
keyfile = os.path.join(tmp, "key")
with open(keyfile, "w") as f:
    f.write("s3cret-key\n")
srv = h.Server(h.IN21K, "--api-key-file", keyfile, "--quiet")
g = lambda path, key=None: requests.get(srv.url + path, timeout=10, headers=(
    {"Authorization": f"Bearer {key}"} if key else {}))
check("API key: health needs none", g("/v2/health/live").status_code == 200
      and g("/v2/health/ready").status_code == 200)
r = g("/v2")
check("API key: missing -> 401 with WWW-Authenticate",
      r.status_code == 401 and r.headers.get("WWW-Authenticate") == "Bearer")
check("API key: wrong -> 401", g("/v2", "s3cret-kez").status_code == 401
      and g("/metrics", "s3cret-key-longer").status_code == 401)
check("API key: right -> 200", g("/v2", "s3cret-key").status_code == 200)
r = requests.post(f"{srv.url}/v2/models/{M}/embed", data=raw[0], timeout=30)
check("API key: infer without it -> 401", r.status_code == 401)
srv.stop()
env = dict(os.environ, VITC_API_KEY="from-env")
srv = h.Server(h.IN21K, "--quiet", env=env)
check("API key from VITC_API_KEY", requests.get(srv.url + "/v2", timeout=10).status_code == 401
      and requests.get(srv.url + "/v2", timeout=10,
                       headers={"Authorization": "Bearer from-env"}).status_code == 200)

# ---- bad starts: exit 1 before the URL ----
port = hostport(srv.url)[1]
p = subprocess.run([h.VITC, "serve", h.IN21K, "--port", str(port)], capture_output=True,
                   timeout=60)
check("port in use: exit 1, no URL, says so",
      p.returncode == 1 and p.stdout == b"" and b"Address already in use" in p.stderr, p.stderr)
srv.stop()
p = subprocess.run([h.VITC, "serve", os.path.join(tmp, "no-such-model"), "--port", "0"],
                   capture_output=True, timeout=60)
check("unloadable model: exit 1, no URL, names it",
      p.returncode == 1 and p.stdout == b"" and b"no-such-model" in p.stderr, p.stderr)
p = subprocess.run([h.VITC, "serve", h.IN21K, "--max-batch", "0"], capture_output=True,
                   timeout=60)
check("bad option value: exit 2", p.returncode == 2, p.stderr)
p = subprocess.run([h.VITC, "serve", h.IN21K, f"x={h.IN21K}", f"x={h.CLASSIFIER}",
                    "--port", "0"], capture_output=True, timeout=60)
check("two models with one name: exit 2", p.returncode == 2 and b"two models" in p.stderr)
h.finish()
