# SPDX-License-Identifier: MIT
"""test_api.py — every route of `vitc serve` and its error codes, the v2 protocol in JSON
and binary form both ways (the binary client in v2client.py), the plain embed/classify
routes, and outputs bitwise equal to `vitc embed` for BYTES and FP32 inputs; then 16
concurrent clients with different images, each getting exactly its own row, in batches
larger than one."""
import base64
import io
import json
import os
import subprocess
import tempfile
import threading

import numpy as np
import requests

import harness as h
from harness import check
import v2client as v2

tmp = tempfile.mkdtemp(prefix="vitc-serve-api.")
IMGS = h.IMAGES[:6]
raw = [open(p, "rb").read() for p in IMGS]
ref = {k: h.embed_reference(tmp, h.IN21K, IMGS, k)
       for k in ("pooler_output", "cls", "last_hidden_state", "pixel_values")}
ref_logits = h.embed_reference(tmp, h.CLASSIFIER, IMGS, "logits")
ref_clip = {k: h.embed_reference(tmp, h.CLIP, IMGS, k) for k in ("image_embeds", "pooler_output")}

srv = h.Server(h.IN21K, f"clf={h.CLASSIFIER}", f"clip={h.CLIP}", "--max-batch", "8", "--max-delay-us", "50000",
               "--workers", "2", "--threads", "1", "--max-body-bytes", "4000000")
U = srv.url
M = "tiny-in21k"
S = requests.Session()


def get(path, **kw):
    return S.get(U + path, timeout=30, **kw)


def post(path, **kw):
    return S.post(U + path, timeout=60, **kw)


def is_error(r, code, phrase=""):
    try:
        msg = r.json()["error"]
    except Exception:
        return False
    return r.status_code == code and phrase in msg


# ---- health, metadata, routing ----
check("URL line names 127.0.0.1", U.startswith("http://127.0.0.1:"), U)
check("GET /v2/health/live 200", get("/v2/health/live").status_code == 200)
check("GET /v2/health/ready 200", get("/v2/health/ready").status_code == 200)
meta = get("/v2").json()
check("GET /v2 lists binary_tensor_data", "binary_tensor_data" in meta["extensions"], meta)
mm = get(f"/v2/models/{M}").json()
check("model metadata: name, batch axis -1",
      mm["name"] == M and mm["inputs"][1]["shape"] == [-1, 3, 32, 32]
      and any(o["name"] == "pooler_output" and o["shape"] == [-1, 32] for o in mm["outputs"]), mm)
check("model metadata of the classifier lists logits [-1, 5]",
      any(o["name"] == "logits" and o["shape"] == [-1, 5]
          for o in get("/v2/models/clf").json()["outputs"]))
check("GET /v2/models/M/versions/1 200", get(f"/v2/models/{M}/versions/1").status_code == 200)
check("GET /v2/models/M/ready 200", get(f"/v2/models/{M}/ready").status_code == 200)
check("unknown version 404", is_error(get(f"/v2/models/{M}/versions/2"), 404, "version"))
check("unknown model 404", is_error(get("/v2/models/nope"), 404, "unknown model"))
check("unknown model infer 404", is_error(post("/v2/models/nope/infer", data=b"{}"), 404))
check("unknown route 404", is_error(get("/v3/what"), 404, "no route"))
check("GET on infer 405", is_error(get(f"/v2/models/{M}/infer"), 405))
m = get("/metrics")
check("GET /metrics is Prometheus text",
      m.status_code == 200 and "text/plain" in m.headers["Content-Type"]
      and "# TYPE vitc_inference_count_total counter" in m.text)

# ---- v2 infer: BYTES and FP32, JSON and binary ----
r = v2.infer(U, M, [("images", "BYTES", raw)], binary_inputs=False, binary_outputs=False)
hdr, out = v2.parse_response(r)
check("infer BYTES as JSON (base64) -> JSON pooler_output bitwise = vitc embed",
      r.status_code == 200 and np.array_equal(out["pooler_output"], ref["pooler_output"]),
      r.text[:300])
check("infer response names the model and version",
      hdr["model_name"] == M and hdr["model_version"] == "1")
r = v2.infer(U, M, [("images", "BYTES", raw)], outputs=["pooler_output", "last_hidden_state",
                                                        "cls", "pixel_values"],
             request_id="req-7")
hdr, out = v2.parse_response(r)
check("infer BYTES binary -> binary outputs (tritonclient form), all bitwise = vitc embed",
      r.status_code == 200 and all(np.array_equal(out[k], ref[k]) for k in ref)
      and r.headers["Content-Type"] == "application/octet-stream", r.text[:300])
check("infer echoes the request id", hdr.get("id") == "req-7", hdr)
r = v2.infer(U, M, [("pixel_values", "FP32", ref["pixel_values"])], outputs=["last_hidden_state"])
hdr, out = v2.parse_response(r)
check("infer FP32 pixel_values binary -> last_hidden_state bitwise = vitc embed",
      r.status_code == 200 and np.array_equal(out["last_hidden_state"], ref["last_hidden_state"]))
r = v2.infer(U, M, [("pixel_values", "FP32", ref["pixel_values"][:2])], binary_inputs=False,
             outputs=["cls"], binary_outputs=False)
hdr, out = v2.parse_response(r)
check("infer FP32 as nested JSON -> JSON cls bitwise = vitc embed",
      r.status_code == 200 and np.array_equal(out["cls"], ref["cls"][:2]), r.text[:200])
r = v2.infer(U, "clf", [("images", "BYTES", raw)], outputs=["logits"])
hdr, out = v2.parse_response(r)
check("infer on the classifier: logits bitwise = vitc embed --output logits",
      r.status_code == 200 and np.array_equal(out["logits"], ref_logits))
r = v2.infer(U, "clf", [("images", "BYTES", raw[:1])], binary_outputs=False)
check("default output of a model without pooler is cls",
      r.status_code == 200 and v2.parse_response(r)[0]["outputs"][0]["name"] == "cls")

# ---- a CLIP vision tower: image_embeds is its default output, as in vitc embed ----
cm = get("/v2/models/clip").json()
check("CLIP metadata: default_output image_embeds, listed with [-1, projection_dim]",
      cm.get("parameters", {}).get("default_output") == "image_embeds"
      and any(o["name"] == "image_embeds" and o["shape"] == [-1, ref_clip["image_embeds"].shape[1]]
              for o in cm.get("outputs", [])), cm)
r = post("/v2/models/clip/embed", data=raw[0])
check("CLIP embed, no ?output: image_embeds bitwise = vitc embed",
      r.status_code == 200 and r.json().get("output") == "image_embeds"
      and np.array_equal(np.array(r.json()["data"], dtype=np.float32), ref_clip["image_embeds"][:1]),
      r.text[:300])
r = v2.infer(U, "clip", [("images", "BYTES", raw)], outputs=["image_embeds", "pooler_output"])
hdr, out = v2.parse_response(r) if r.status_code == 200 else ({}, {})
check("CLIP infer, outputs image_embeds and pooler_output: both bitwise = vitc embed",
      r.status_code == 200 and np.array_equal(out.get("image_embeds"), ref_clip["image_embeds"])
      and np.array_equal(out.get("pooler_output"), ref_clip["pooler_output"]), r.text[:300])

# ---- plain routes ----
r = post(f"/v2/models/{M}/embed", data=raw[0])
j = r.json()
check("embed raw body -> JSON row bitwise = vitc embed",
      r.status_code == 200 and j["shape"] == [1, 32] and j["names"] == ["body"]
      and np.array_equal(np.array(j["data"], dtype=np.float32), ref["pooler_output"][:1]), j)
files = [("file", (os.path.basename(p), b)) for p, b in zip(IMGS[:3], raw[:3])]
r = post(f"/v2/models/{M}/embed?output=cls", files=files)
j = r.json()
check("embed multipart, 3 files, ?output=cls -> names and rows",
      r.status_code == 200 and j["names"] == [os.path.basename(p) for p in IMGS[:3]]
      and j["output"] == "cls"
      and np.array_equal(np.array(j["data"], dtype=np.float32), ref["cls"][:3]), r.text[:300])
r = post(f"/v2/models/{M}/embed?output=last_hidden_state", files=files,
         headers={"Accept": "application/x-npy"})
arr = np.load(io.BytesIO(r.content)) if r.status_code == 200 else None
check("embed with Accept: application/x-npy -> .npy bitwise = vitc embed",
      arr is not None and arr.dtype == np.float32
      and np.array_equal(arr, ref["last_hidden_state"][:3]), r.status_code)
r = post("/v2/models/clf/classify?top_k=3", data=raw[0])
want = json.loads(subprocess.run([h.VITC, "classify", h.CLASSIFIER, IMGS[0], "--json",
                                  "--top-k", "3"], capture_output=True, timeout=60).stdout)
got = r.json()
check("classify route = vitc classify --json (labels, ids, probabilities)",
      r.status_code == 200 and
      [(p["id"], p["label"]) for p in got[0]["predictions"]] ==
      [(p["id"], p["label"]) for p in want[0]["predictions"]] and
      all(abs(a["prob"] - b["prob"]) < 1e-12
          for a, b in zip(got[0]["predictions"], want[0]["predictions"])), (got, want))

# ---- errors ----
def infer_raw(body, headers=None, model=M):
    return post(f"/v2/models/{model}/infer", data=body, headers=headers or {})


check("malformed JSON 400", is_error(infer_raw(b'{"inputs": ['), 400))
check("wrong datatype 400", is_error(infer_raw(json.dumps({"inputs": [
    {"name": "x", "datatype": "INT32", "shape": [1], "data": [1]}]}).encode()), 400))
check("wrong FP32 shape 400", is_error(infer_raw(json.dumps({"inputs": [
    {"name": "pixel_values", "datatype": "FP32", "shape": [1, 3, 8, 8],
     "data": [0.0] * 192}]}).encode()), 400, "shape"))
body, hd = v2.infer_request([("images", "BYTES", raw[:2])])
check("truncated binary section 400", is_error(infer_raw(body[:-10], hd), 400))
hd2 = dict(hd, **{"Inference-Header-Content-Length": str(len(body) + 5)})
check("Inference-Header-Content-Length past the body 400", is_error(infer_raw(body, hd2), 400))
r = v2.infer(U, M, [("images", "BYTES", [raw[0], b"not an image", raw[1]])])
check("undecodable image 400 naming the element", is_error(r, 400, "element 1"), r.text)
r = v2.infer(U, M, [("images", "BYTES", raw[:1] * 9)])
check("more images than --max-batch 400", is_error(r, 400, "max-batch"), r.text)
r = v2.infer(U, M, [("images", "BYTES", raw[:1])], outputs=["logits"])
check("an output the model lacks 400", is_error(r, 400, "logits"), r.text)
r = v2.infer(U, M, [("images", "BYTES", raw[:1])], outputs=["nope"])
check("an unknown output 400", is_error(r, 400, "unknown output"), r.text)
r = v2.infer(U, M, [("images", "BYTES", raw[:1]), ("more", "BYTES", raw[:1])])
check("two inputs 400", is_error(r, 400, "one input"), r.text)
check("classify on a model without classifier 400",
      is_error(post(f"/v2/models/{M}/classify", data=raw[0]), 400, "classifier"))
check("embed of an empty body 400", is_error(post(f"/v2/models/{M}/embed", data=b""), 400))
check("embed of a broken multipart body 400",
      is_error(post(f"/v2/models/{M}/embed", data=b"--x\r\nbroken",
                    headers={"Content-Type": "multipart/form-data; boundary=x"}), 400))
check("classify ?top_k=0 400", is_error(post("/v2/models/clf/classify?top_k=0", data=raw[0]), 400))
r = post(f"/v2/models/{M}/embed", data=b"\0" * 4000001)
check("body over --max-body-bytes 413 (from Content-Length)", is_error(r, 413, "max-body-bytes"))

# ---- 16 concurrent clients, different images ----
N = 16
imgs16 = [h.IMAGES[i % len(h.IMAGES)] for i in range(N)]
ref16 = h.embed_reference(tmp, h.IN21K, imgs16, "pooler_output")
before = S.get(U + "/metrics", timeout=30).text
results = [None] * N
barrier = threading.Barrier(N)


def client(i):
    data = open(imgs16[i], "rb").read()
    barrier.wait(30)
    form = i % 2
    try:
        if form:
            r = v2.infer(U, M, [("images", "BYTES", [data])], outputs=["pooler_output"])
            results[i] = v2.parse_response(r)[1]["pooler_output"][0] if r.ok else r.text
        else:
            r = requests.post(f"{U}/v2/models/{M}/embed", data=data, timeout=60)
            results[i] = np.array(r.json()["data"][0], dtype=np.float32) if r.ok else r.text
    except Exception as e:  # reported below
        results[i] = repr(e)


threads = [threading.Thread(target=client, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join(120)
good = [isinstance(results[i], np.ndarray) and np.array_equal(results[i], ref16[i])
        for i in range(N)]
check(f"{N} concurrent clients each get exactly their own vitc embed row", all(good),
      [results[i] for i in range(N) if not good[i]][:2])
after = S.get(U + "/metrics", timeout=30).text
d_img = h.metric(after, "vitc_inference_count_total", M) - h.metric(before, "vitc_inference_count_total", M)
d_bat = h.metric(after, "vitc_inference_exec_count_total", M) - h.metric(before, "vitc_inference_exec_count_total", M)
check(f"metrics: {d_img:.0f} images in {d_bat:.0f} batches (average > 1)",
      d_img == N and d_bat < d_img, (d_img, d_bat))
st = S.get(f"{U}/v2/models/{M}/stats", timeout=30).json()["model_stats"][0]
check("GET /v2/models/M/stats (Triton's statistics extension) counts images and batches",
      st["name"] == M and st["inference_count"] == h.metric(after, "vitc_inference_count_total", M)
      and st["execution_count"] == h.metric(after, "vitc_inference_exec_count_total", M)
      and st["inference_stats"]["success"]["count"] > 0, st)
check("metrics count successes per route",
      h.metric(after, "vitc_inference_request_success_total", M) is not None
      and 'route="embed"' in after)

p = subprocess.run([h.VITC, "help", "serve"], capture_output=True, text=True, timeout=30)
check("vitc help serve lists the routes and every option",
      p.returncode == 0 and "/v2/models/NAME/infer" in p.stdout and all(
          o in p.stdout for o in ("--max-batch", "--max-delay-us", "--max-queue", "--max-body-bytes",
                                  "--request-timeout-ms", "--api-key-file", "--port", "--host")))
rc = srv.stop()
log = srv.log()
check("SIGTERM: exit 0", rc == 0, rc)
check("access log: method, route, model, status, images, queue and compute ms",
      f"POST /v2/models/{M}/infer model={M} status=200 images=6 queue_ms=" in log
      and "compute_ms=" in log, log[-500:])
h.finish()
