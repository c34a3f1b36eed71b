#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# make_onnx.py — ONNX graphs of one vitc model directory for ONNX Runtime, all with the same
# weights as vitc and the PyTorch peer:
#   fp32.onnx     torch.onnx.export of vit_torch.BenchViT (opset 17, dynamic batch);
#   fused.onnx    the graph ONNX Runtime's transformer optimizer makes of a ViT, written
#                 directly with the onnx package: com.microsoft Attention (packed QKV),
#                 SkipLayerNormalization (residual + bias + LayerNorm) and BiasGelu (exact erf);
#   int8dyn.onnx  fp32.onnx with every weight MatMul (+ its bias Add) replaced by
#                 com.microsoft DynamicQuantizeMatMul: int8 symmetric per-output-column weights,
#                 activations quantized per call, as ONNX Runtime's quantize_dynamic ends up.
# Also a cross-check input (2 seeded images) and PyTorch's head output for it, as raw float32
# (.f32) and .npy, and meta.json. Not part of vitc.
#   make_onnx.py MODEL_DIR OUT_DIR

import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_torch  # noqa: E402

OPSET = 17
MS = "com.microsoft"


def export_plain(model, cfg, head, path):
    s, c = cfg["image_size"], cfg["num_channels"]
    x = torch.randn(1, c, s, s)
    with torch.no_grad():
        torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["pixel_values"],
                          output_names=["last_hidden_state", head],
                          dynamic_axes={"pixel_values": {0: "batch"},
                                        "last_hidden_state": {0: "batch"}, head: {0: "batch"}},
                          do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))


# ---- dynamic int8: rewrite the exported graph ------------------------------------------------


def quantize_columns(w):
    """w [K, N] -> int8 [K, N], per-column scale [N] (max |w| maps to 127), zero point [N]."""
    scale = np.maximum(np.abs(w).max(axis=0), 1e-8) / 127.0
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32), np.zeros(w.shape[1], np.int8)


def make_int8dyn(src, path):
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    users = {}
    for n in g.node:
        for name in n.input:
            users.setdefault(name, []).append(n)
    nodes, skip, extra, count = [], set(), [], 0
    for n in g.node:
        if id(n) in skip:
            continue
        w = inits.get(n.input[1]) if n.op_type == "MatMul" and len(n.input) == 2 else None
        if w is None or w.ndim != 2:
            nodes.append(n)
            continue
        q, scale, zp = quantize_columns(w.astype(np.float32))
        base = n.input[1] + ".int8"
        extra += [numpy_helper.from_array(q, base), numpy_helper.from_array(scale, base + ".scale"),
                  numpy_helper.from_array(zp, base + ".zero_point")]
        inputs, out = [n.input[0], base, base + ".scale", base + ".zero_point"], n.output[0]
        after = users.get(out, [])
        # Fold the Linear's bias: a lone Add of a [N] initializer right after the MatMul.
        if len(after) == 1 and after[0].op_type == "Add":
            other = [i for i in after[0].input if i != out]
            if len(other) == 1 and other[0] in inits and inits[other[0]].shape == (w.shape[1],):
                inputs.append(other[0])
                out = after[0].output[0]
                skip.add(id(after[0]))
        nodes.append(helper.make_node("DynamicQuantizeMatMul", inputs, [out], domain=MS,
                                      name=(n.name or base) + ".dqmm"))
        count += 1
    del g.node[:]
    g.node.extend(nodes)
    used = {name for n in g.node for name in n.input}
    keep = [i for i in g.initializer if i.name in used] + extra
    del g.initializer[:]
    g.initializer.extend(keep)
    m.opset_import.append(helper.make_opsetid(MS, 1))
    onnx.save(m, path)
    return count


# ---- the transformer-fused graph ---------------------------------------------------------------


def make_fused(model, cfg, head, path):
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    pre = "vit."
    D, H, eps = cfg["hidden_size"], cfg["num_attention_heads"], float(cfg["layer_norm_eps"])
    s, c, p = cfg["image_size"], cfg["num_channels"], cfg["patch_size"]
    inits, nodes = [], []

    def const(name, arr):
        # np.ascontiguousarray would turn a scalar into shape [1]: keep 0-d arrays as they are.
        arr = np.asarray(arr) if np.ndim(arr) == 0 else np.ascontiguousarray(arr)
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def node(op, ins, outs, domain="", **attrs):
        nodes.append(helper.make_node(op, ins, outs, domain=domain, **attrs))
        return outs[0]

    def w(name):
        return sd[pre + name]

    x = "pixel_values"
    pe = node("Conv", [x, const("pe.w", w("embeddings.patch_embeddings.projection.weight")),
                       const("pe.b", w("embeddings.patch_embeddings.projection.bias"))],
              ["pe"], kernel_shape=[p, p], strides=[p, p])
    pe = node("Reshape", [pe, const("pe.shape", np.array([0, D, -1], np.int64))], ["pe.flat"])
    pe = node("Transpose", [pe], ["pe.tokens"], perm=[0, 2, 1])
    batch = node("Shape", [x], ["batch"], start=0, end=1)
    cls_shape = node("Concat", [batch, const("cls.dims", np.array([1, D], np.int64))],
                     ["cls.shape"], axis=0)
    cls = node("Expand", [const("cls", w("embeddings.cls_token")), cls_shape], ["cls.batch"])
    h = node("Concat", [cls, pe], ["tokens"], axis=1)
    h = node("Add", [h, const("pos", w("embeddings.position_embeddings"))], ["h.0"])
    ln0 = "encoder.layer.0.layernorm_before."
    ln = node("LayerNormalization", [h, const("l0.ln1.g", w(ln0 + "weight")),
                                     const("l0.ln1.b", w(ln0 + "bias"))],
              ["l0.ln1"], axis=-1, epsilon=eps)
    n_layers = cfg["num_hidden_layers"]
    for i in range(n_layers):
        lp = "encoder.layer.%d." % i
        a = lp + "attention.attention."
        wqkv = np.concatenate([w(a + t + ".weight").T for t in ("query", "key", "value")], axis=1)
        if cfg["qkv_bias"]:
            bqkv = np.concatenate([w(a + t + ".bias") for t in ("query", "key", "value")])
        else:
            bqkv = np.zeros(3 * D, np.float32)
        att = node("Attention", [ln, const("l%d.wqkv" % i, wqkv), const("l%d.bqkv" % i, bqkv)],
                   ["l%d.att" % i], domain=MS, num_heads=H)
        ao = node("MatMul", [att, const("l%d.wo" % i, w(lp + "attention.output.dense.weight").T)],
                  ["l%d.ao" % i])
        node("SkipLayerNormalization",
             [ao, h, const("l%d.ln2.g" % i, w(lp + "layernorm_after.weight")),
              const("l%d.ln2.b" % i, w(lp + "layernorm_after.bias")),
              const("l%d.bo" % i, w(lp + "attention.output.dense.bias"))],
             ["l%d.ln2" % i, "", "", "l%d.h1" % i], domain=MS, epsilon=eps)
        w1 = w(lp + "intermediate.dense.weight").T
        u = node("MatMul", ["l%d.ln2" % i, const("l%d.w1" % i, w1)], ["l%d.up" % i])
        u = node("BiasGelu", [u, const("l%d.b1" % i, w(lp + "intermediate.dense.bias"))],
                 ["l%d.gelu" % i], domain=MS)
        w2 = w(lp + "output.dense.weight").T
        d = node("MatMul", [u, const("l%d.w2" % i, w2)], ["l%d.down" % i])
        if i + 1 < n_layers:
            nxt = "encoder.layer.%d.layernorm_before." % (i + 1)
            g_, b_, out = w(nxt + "weight"), w(nxt + "bias"), "l%d.ln1" % (i + 1)
        else:
            g_, b_, out = w("layernorm.weight"), w("layernorm.bias"), "last_hidden_state"
        node("SkipLayerNormalization",
             [d, "l%d.h1" % i, const("l%d.lnn.g" % i, g_), const("l%d.lnn.b" % i, b_),
              const("l%d.b2" % i, w(lp + "output.dense.bias"))],
             [out, "", "", "l%d.h2" % i], domain=MS, epsilon=eps)
        h, ln = "l%d.h2" % i, out
    first = node("Gather", ["last_hidden_state", const("zero", np.array(0, np.int64))], ["first"],
                 axis=1)
    n_out = D
    if head == "logits":
        n_out = sd["classifier.weight"].shape[0]
        node("Gemm", [first, const("cls.w", sd["classifier.weight"]),
                      const("cls.b", sd["classifier.bias"])], [head], transB=1)
    elif head == "pooler_output":
        pl = node("Gemm", [first, const("pool.w", w("pooler.dense.weight")),
                           const("pool.b", w("pooler.dense.bias"))], ["pool.lin"], transB=1)
        node("Tanh", [pl], [head])
    else:
        node("Identity", [first], [head])
    graph = helper.make_graph(
        nodes, "vit_fused",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", c, s, s])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                       ["batch", (s // p) ** 2 + 1, D]),
         helper.make_tensor_value_info(head, TensorProto.FLOAT, ["batch", n_out])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                helper.make_opsetid(MS, 1)])
    m.ir_version = 8
    onnx.save(m, path)


def main(argv):
    if len(argv) != 2:
        print("usage: make_onnx.py MODEL_DIR OUT_DIR", file=sys.stderr)
        return 2
    model_dir, out = argv
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    model, cfg = vit_torch.load(model_dir)
    head = vit_torch.head_name(model)
    export_plain(model, cfg, head, os.path.join(out, "fp32.onnx"))
    variants = ["fp32"]
    n = make_int8dyn(os.path.join(out, "fp32.onnx"), os.path.join(out, "int8dyn.onnx"))
    variants.append("int8dyn")
    # BiasGelu is the exact erf GELU: the fused graph exists only for models that use it.
    # It is written for ViT's tensor names.
    if cfg["family"] == "vit" and cfg["hidden_act"] in ("gelu", "gelu_python"):
        make_fused(model, cfg, head, os.path.join(out, "fused.onnx"))
        variants.append("fused")
    s, c = cfg["image_size"], cfg["num_channels"]
    x = np.random.default_rng(1).uniform(-1, 1, (2, c, s, s)).astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x))[1].numpy().astype(np.float32)
    np.save(os.path.join(out, "ref_input.npy"), x)
    np.save(os.path.join(out, "ref_head.npy"), y)
    x.tofile(os.path.join(out, "ref_input.f32"))
    y.tofile(os.path.join(out, "ref_head.f32"))
    meta = {"head": head, "input_shape": list(x.shape), "head_shape": list(y.shape),
            "variants": variants, "opset": OPSET, "int8_matmuls": n, "onnx": onnx.__version__,
            "torch": torch.__version__}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("wrote %s: %s (%d MatMuls quantized), head %s" % (out, ", ".join(variants), n, head))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
