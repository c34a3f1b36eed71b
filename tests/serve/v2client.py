# SPDX-License-Identifier: MIT
"""v2client.py — a KServe v2 / Triton HTTP client written from the protocol text, speaking
the binary tensor data extension the way tritonclient.http does: the JSON inference header
first, its length in Inference-Header-Content-Length, then each binary input's bytes in input
order (BYTES elements each behind a 4-byte little-endian length); outputs asked for with
parameters.binary_data come back after the response's JSON the same way. Only the standard
library, numpy and requests."""
import base64
import json
import struct

import numpy as np
import requests


def bytes_tensor(items):
    """BYTES elements serialized as tritonclient's serialize_byte_tensor does."""
    return b"".join(struct.pack("<I", len(b)) + b for b in items)


def infer_request(inputs, outputs=None, binary_inputs=True, binary_outputs=True, request_id=None):
    """Body and headers of a v2 infer request. inputs: [(name, datatype, array-or-list)]
    (BYTES: a list of bytes objects; FP32: a float32 array). outputs: names or None."""
    header = {"inputs": []}
    if request_id is not None:
        header["id"] = request_id
    tail = b""
    for name, dtype, value in inputs:
        if dtype == "BYTES":
            shape = [len(value)]
            if binary_inputs:
                raw = bytes_tensor(value)
                t = {"name": name, "datatype": "BYTES", "shape": shape,
                     "parameters": {"binary_data_size": len(raw)}}
                tail += raw
            else:
                t = {"name": name, "datatype": "BYTES", "shape": shape,
                     "data": [base64.b64encode(v).decode() for v in value]}
        else:
            arr = np.ascontiguousarray(value, dtype="<f4")
            shape = list(arr.shape)
            if binary_inputs:
                raw = arr.tobytes()
                t = {"name": name, "datatype": dtype, "shape": shape,
                     "parameters": {"binary_data_size": len(raw)}}
                tail += raw
            else:
                t = {"name": name, "datatype": dtype, "shape": shape, "data": arr.tolist()}
        header["inputs"].append(t)
    if outputs is not None:
        header["outputs"] = [{"name": o, "parameters": {"binary_data": binary_outputs}}
                             for o in outputs]
    elif binary_outputs:
        header["parameters"] = {"binary_data_output": True}
    head = json.dumps(header).encode()
    headers = {"Content-Type": "application/octet-stream"}
    if tail:
        headers["Inference-Header-Content-Length"] = str(len(head))
    return head + tail, headers


def parse_response(resp):
    """{output name: float32 array} from a v2 infer response (JSON or binary tail)."""
    body = resp.content
    n = resp.headers.get("Inference-Header-Content-Length")
    json_size = int(n) if n is not None else len(body)
    header = json.loads(body[:json_size])
    out, at = {}, json_size
    for o in header["outputs"]:
        assert o["datatype"] == "FP32", o["datatype"]
        shape = o["shape"]
        size = (o.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            arr = np.frombuffer(body[at:at + size], dtype="<f4").reshape(shape)
            at += size
        else:
            arr = np.array(o["data"], dtype=np.float64).astype(np.float32).reshape(shape)
        out[o["name"]] = arr
    assert at == len(body), f"{len(body) - at} bytes left after the outputs"
    return header, out


def infer(url, model, inputs, outputs=None, timeout=60, session=None, **kw):
    body, headers = infer_request(inputs, outputs, **kw)
    s = session or requests
    r = s.post(f"{url}/v2/models/{model}/infer", data=body, headers=headers, timeout=timeout)
    return r
