#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# vit_reference.py — an independent PyTorch reference for the ViT forward pass, used by the
# end-to-end tests to check `vitc embed` at full size. It mirrors the module structure of
# transformers' modeling_vit.py (4.40) with plain torch.nn layers and the exact state_dict
# names, so `load_state_dict(strict=True)` proves every tensor of the checkpoint is used.
# It is not part of vitc and needs only torch and numpy (no transformers).
#
#   vit_reference.py [--interpolate-pos-encoding] MODEL_DIR PIXEL_VALUES.npy OUT_PREFIX
#       writes OUT_PREFIX.last_hidden_state.npy and OUT_PREFIX.pooler_output.npy (models with a
#       pooler) or OUT_PREFIX.logits.npy (classifiers), all float32. With the flag, pixel_values
#       of any height and width, as transformers' forward(interpolate_pos_encoding=True).
#   vit_reference.py --self-test MODEL_DIR...
#       runs each fixture's inputs.pixel_values.npy and compares with its expected.*.npy
#       (outputs of the real transformers code); prints one line per comparison and a final
#       "N passed, N failed"; exits non-zero on any failure.

import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

SELF_TEST_TOL = 1e-5

# ---- model directory -------------------------------------------------------------------------

CONFIG_DEFAULTS = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-12,
    "image_size": 224,
    "patch_size": 16,
    "num_channels": 3,
    "qkv_bias": True,
}


def load_config(model_dir):
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        raw = json.load(f)
    cfg = dict(CONFIG_DEFAULTS)
    cfg.update({k: raw[k] for k in CONFIG_DEFAULTS if k in raw})
    archs = raw.get("architectures") or ["ViTModel"]
    cfg["architecture"] = archs[0]
    if "id2label" in raw:
        cfg["num_labels"] = len(raw["id2label"])
    else:
        cfg["num_labels"] = raw.get("num_labels", 2)
    return cfg


def bf16_to_f32(raw):
    # bfloat16 is the top half of a float32: widen by shifting into the high 16 bits.
    return (raw.astype(np.uint32) << 16).view(np.float32)


DTYPES = {
    "F32": (4, lambda b: np.frombuffer(b, dtype="<f4")),
    "F16": (2, lambda b: np.frombuffer(b, dtype="<f2").astype(np.float32)),
    "BF16": (2, lambda b: bf16_to_f32(np.frombuffer(b, dtype="<u2"))),
}


def load_safetensors(path):
    """Parses a .safetensors file by hand: 8-byte LE header length, JSON header, raw data."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} beyond the end of the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: {name}: unsupported dtype {info['dtype']}")
        elem, convert = DTYPES[info["dtype"]]
        shape = [int(d) for d in info["shape"]]
        begin, end = (int(v) for v in info["data_offsets"])
        count = int(np.prod(shape)) if shape else 1
        if not 0 <= begin <= end <= len(data) or end - begin != count * elem:
            raise ValueError(f"{path}: {name}: data_offsets {begin}..{end} do not fit")
        arr = convert(data[begin:end]).reshape(shape)
        tensors[name] = torch.from_numpy(arr.astype(np.float32, copy=True))
    return tensors


# ---- modules (names and structure as in modeling_vit.py) -------------------------------------


class NewGELU(nn.Module):
    """transformers' NewGELUActivation ("gelu_new"): the tanh approximation, written as HF does."""

    def forward(self, x):
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))
        return 0.5 * x * (1.0 + torch.tanh(inner))


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


def make_activation(name):
    if name in ("gelu", "gelu_python"):
        return nn.GELU()
    if name in ("gelu_new", "gelu_fast"):
        return NewGELU()
    if name == "gelu_pytorch_tanh":
        return nn.GELU(approximate="tanh")
    if name == "quick_gelu":
        return QuickGELU()
    if name == "relu":
        return nn.ReLU()
    if name in ("silu", "swish"):
        return nn.SiLU()
    if name == "tanh":
        return nn.Tanh()
    if name == "linear":
        return nn.Identity()
    raise ValueError(f"unsupported hidden_act {name!r}")


class ViTPatchEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        p = cfg["patch_size"]
        self.projection = nn.Conv2d(cfg["num_channels"], cfg["hidden_size"],
                                    kernel_size=p, stride=p)

    def forward(self, pixel_values):
        return self.projection(pixel_values).flatten(2).transpose(1, 2)


class ViTEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        n_patches = (cfg["image_size"] // cfg["patch_size"]) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, h))
        self.patch_embeddings = ViTPatchEmbeddings(cfg)
        self.position_embeddings = nn.Parameter(torch.zeros(1, n_patches + 1, h))
        self.patch_size = cfg["patch_size"]
        self.interpolate = False

    def interpolate_pos_encoding(self, embeddings, height, width):
        """ViTEmbeddings.interpolate_pos_encoding of transformers 4.40.2."""
        num_patches = embeddings.shape[1] - 1
        num_positions = self.position_embeddings.shape[1] - 1
        if num_patches == num_positions and height == width:
            return self.position_embeddings
        class_pos_embed = self.position_embeddings[:, 0]
        patch_pos_embed = self.position_embeddings[:, 1:]
        dim = embeddings.shape[-1]
        h0 = height // self.patch_size + 0.1
        w0 = width // self.patch_size + 0.1
        n = int(math.sqrt(num_positions))
        patch_pos_embed = patch_pos_embed.reshape(1, n, n, dim).permute(0, 3, 1, 2)
        patch_pos_embed = nn.functional.interpolate(
            patch_pos_embed,
            scale_factor=(h0 / math.sqrt(num_positions), w0 / math.sqrt(num_positions)),
            mode="bicubic", align_corners=False)
        assert int(h0) == patch_pos_embed.shape[-2] and int(w0) == patch_pos_embed.shape[-1]
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).view(1, -1, dim)
        return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1)

    def forward(self, pixel_values):
        x = self.patch_embeddings(pixel_values)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1)
        if self.interpolate:
            return x + self.interpolate_pos_encoding(x, *pixel_values.shape[2:])
        return x + self.position_embeddings


class ViTSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.head_size = h // self.num_heads
        self.query = nn.Linear(h, h, bias=cfg["qkv_bias"])
        self.key = nn.Linear(h, h, bias=cfg["qkv_bias"])
        self.value = nn.Linear(h, h, bias=cfg["qkv_bias"])

    def split_heads(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.num_heads, self.head_size).permute(0, 2, 1, 3)

    def forward(self, x):
        q = self.split_heads(self.query(x))
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size)
        probs = nn.functional.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], -1)


class ViTSelfOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, x):
        return self.dense(x)


class ViTAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = ViTSelfAttention(cfg)
        self.output = ViTSelfOutput(cfg)

    def forward(self, x):
        return self.output(self.attention(x))


class ViTIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])
        self.intermediate_act_fn = make_activation(cfg["hidden_act"])

    def forward(self, x):
        return self.intermediate_act_fn(self.dense(x))


class ViTOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"])

    def forward(self, x, residual):
        return self.dense(x) + residual


class ViTLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
        self.attention = ViTAttention(cfg)
        self.intermediate = ViTIntermediate(cfg)
        self.output = ViTOutput(cfg)
        self.layernorm_before = nn.LayerNorm(h, eps=eps)
        self.layernorm_after = nn.LayerNorm(h, eps=eps)

    def forward(self, x):
        x = self.attention(self.layernorm_before(x)) + x
        return self.output(self.intermediate(self.layernorm_after(x)), x)


class ViTEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([ViTLayer(cfg) for _ in range(cfg["num_hidden_layers"])])

    def forward(self, x):
        states = [x]
        for layer in self.layer:
            x = layer(x)
            states.append(x)
        return x, states


class ViTPooler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.activation = nn.Tanh()

    def forward(self, last_hidden_state):
        return self.activation(self.dense(last_hidden_state[:, 0]))


class ViTModel(nn.Module):
    def __init__(self, cfg, add_pooling_layer):
        super().__init__()
        self.embeddings = ViTEmbeddings(cfg)
        self.encoder = ViTEncoder(cfg)
        self.layernorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.pooler = ViTPooler(cfg) if add_pooling_layer else None

    def forward(self, pixel_values):
        x, states = self.encoder(self.embeddings(pixel_values))
        out = {"last_hidden_state": self.layernorm(x), "hidden_states": torch.stack(states)}
        if self.pooler is not None:
            out["pooler_output"] = self.pooler(out["last_hidden_state"])
        return out


class ViTForImageClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.vit = ViTModel(cfg, add_pooling_layer=False)
        self.classifier = nn.Linear(cfg["hidden_size"], cfg["num_labels"])

    def forward(self, pixel_values):
        out = self.vit(pixel_values)
        out["logits"] = self.classifier(out["last_hidden_state"][:, 0, :])
        return out


def load_model(model_dir):
    cfg = load_config(model_dir)
    state = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    if cfg["architecture"] == "ViTForImageClassification":
        model = ViTForImageClassification(cfg)
    elif cfg["architecture"] == "ViTModel":
        model = ViTModel(cfg, add_pooling_layer="pooler.dense.weight" in state)
    else:
        raise ValueError(f"{model_dir}: unsupported architecture {cfg['architecture']!r}")
    model.load_state_dict(state, strict=True)
    return model.float().eval(), cfg


def run(model, cfg, pixel_values, interpolate=False):
    pv = np.ascontiguousarray(pixel_values, dtype=np.float32)
    if pv.ndim == 3:
        pv = pv[None]
    s = cfg["image_size"]
    for m in model.modules():
        if isinstance(m, ViTEmbeddings):
            m.interpolate = interpolate
    # With interpolation any height and width; without, the config's size only.
    want = (cfg["num_channels"],) if interpolate else (cfg["num_channels"], s, s)
    if pv.ndim != 4 or pv.shape[1:1 + len(want)] != want:
        raise ValueError(f"pixel_values of shape {list(pixel_values.shape)} do not fit this "
                         f"model's [N, {cfg['num_channels']}, {s}, {s}]")
    with torch.no_grad():
        out = model(torch.from_numpy(pv))
    return {k: v.numpy().astype(np.float32) for k, v in out.items()}


# ---- commands --------------------------------------------------------------------------------


def self_test(model_dirs):
    passed = failed = 0
    for d in model_dirs:
        model, cfg = load_model(d)
        out = run(model, cfg, np.load(os.path.join(d, "inputs.pixel_values.npy")))
        for key in ("last_hidden_state", "pooler_output", "logits", "hidden_states"):
            path = os.path.join(d, f"expected.{key}.npy")
            if not os.path.exists(path):
                continue
            want = np.load(path)
            got = out.get(key)
            if got is None or got.shape != want.shape:
                print(f"FAIL {d} {key}: shape {None if got is None else got.shape} != {want.shape}")
                failed += 1
                continue
            diff = float(np.abs(got.astype(np.float64) - want).max())
            ok = diff <= SELF_TEST_TOL
            print(f"{'ok  ' if ok else 'FAIL'} reference vs transformers {d} {key}: "
                  f"max abs diff {diff:.3g}")
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main(argv):
    torch.set_num_threads(1)
    if len(argv) >= 2 and argv[0] == "--self-test":
        return self_test(argv[1:])
    interpolate = len(argv) == 4 and argv[0] == "--interpolate-pos-encoding"
    if interpolate:
        argv = argv[1:]
    if len(argv) != 3:
        print("usage: vit_reference.py [--interpolate-pos-encoding] MODEL_DIR PIXEL_VALUES.npy "
              "OUT_PREFIX\n"
              "       vit_reference.py --self-test MODEL_DIR...", file=sys.stderr)
        return 2
    model_dir, pv_path, prefix = argv
    model, cfg = load_model(model_dir)
    out = run(model, cfg, np.load(pv_path), interpolate)
    for key in ("last_hidden_state", "pooler_output", "logits"):
        if key in out:
            np.save(f"{prefix}.{key}.npy", out[key])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
