#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""family_reference.py — independent PyTorch references for CLIP's vision tower
(CLIPVisionModelWithProjection) and DINOv2 (Dinov2Model), written from torch.nn in the structure
and parameter names of transformers 4.40.2's modeling_clip.py / modeling_dinov2.py (not
imported: transformers is not a dependency), loaded strictly from a checkpoint directory.

  family_reference.py selftest DIR...            each fixture's expected.*.npy reproduced
  family_reference.py run DIR PIXELS.npy PREFIX  writes PREFIX.<output>.npy for the outputs
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_reference import load_safetensors, make_activation  # noqa: E402

torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))


def vision_config(model_dir):
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        raw = json.load(f)
    kind = raw.get("model_type", "")
    if kind in ("clip", "clip_vision_model"):
        cfg = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                   num_attention_heads=12, image_size=224, patch_size=32, num_channels=3,
                   hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=512)
        cfg.update(raw.get("vision_config", raw) if kind == "clip" else raw)
        cfg["projection_dim"] = raw.get("projection_dim", 512)
        cfg["family"] = "clip"
    elif kind == "dinov2":
        cfg = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, mlp_ratio=4,
                   image_size=224, patch_size=16, num_channels=3, hidden_act="gelu",
                   layer_norm_eps=1e-6, qkv_bias=True, use_swiglu_ffn=False)
        cfg.update(raw)
        cfg["family"] = "dinov2"
    else:
        raise ValueError(f"{model_dir}: model_type {kind!r} is not CLIP or DINOv2")
    return cfg


# ---- CLIP (modeling_clip.py) -----------------------------------------------------------------


class CLIPAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c["hidden_size"]
        self.heads, self.d = c["num_attention_heads"], H // c["num_attention_heads"]
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(H, H) for _ in range(4))

    def forward(self, x):
        B, T, H = x.shape
        q = self.q_proj(x) * self.d ** -0.5  # scaled before q.k, as CLIPAttention does

        def split(t):
            return t.view(B, T, self.heads, self.d).transpose(1, 2)

        p = torch.softmax(split(q) @ split(self.k_proj(x)).transpose(-1, -2), dim=-1)
        return self.out_proj((p @ split(self.v_proj(x))).transpose(1, 2).reshape(B, T, H))


class CLIPMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1 = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.fc2 = nn.Linear(c["intermediate_size"], c["hidden_size"])
        self.act = make_activation(c["hidden_act"])

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, eps = c["hidden_size"], c["layer_norm_eps"]
        self.self_attn, self.mlp = CLIPAttention(c), CLIPMLP(c)
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class CLIPVisionEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, P = c["hidden_size"], c["patch_size"]
        self.class_embedding = nn.Parameter(torch.zeros(H))
        self.patch_embedding = nn.Conv2d(c["num_channels"], H, P, P, bias=False)
        n = (c["image_size"] // P) ** 2 + 1
        self.position_embedding = nn.Embedding(n, H)

    def forward(self, px):
        patches = self.patch_embedding(px).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(px.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.weight[None]


class CLIPEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList(CLIPEncoderLayer(c) for _ in range(c["num_hidden_layers"]))


class CLIPVisionTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, eps = c["hidden_size"], c["layer_norm_eps"]
        self.embeddings = CLIPVisionEmbeddings(c)
        self.pre_layrnorm = nn.LayerNorm(H, eps=eps)
        self.encoder = CLIPEncoder(c)
        self.post_layernorm = nn.LayerNorm(H, eps=eps)

    def forward(self, px):
        h = self.pre_layrnorm(self.embeddings(px))
        for layer in self.encoder.layers:
            h = layer(h)
        return h, self.post_layernorm(h[:, 0])


class CLIPVision(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.vision_model = CLIPVisionTransformer(c)
        self.visual_projection = nn.Linear(c["hidden_size"], c["projection_dim"], bias=False)

    def forward(self, px):
        last, pooled = self.vision_model(px)
        return {"last_hidden_state": last, "pooler_output": pooled,
                "image_embeds": self.visual_projection(pooled)}


# ---- DINOv2 (modeling_dinov2.py) -------------------------------------------------------------


class Dinov2Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, P = c["hidden_size"], c["patch_size"]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, H))
        self.mask_token = nn.Parameter(torch.zeros(1, H))
        self.patch_embeddings = nn.Module()
        self.patch_embeddings.projection = nn.Conv2d(c["num_channels"], H, P, P)
        n = (c["image_size"] // P) ** 2 + 1
        self.position_embeddings = nn.Parameter(torch.zeros(1, n, H))
        self.P = P

    def interpolate_pos_encoding(self, emb, height, width):
        """Dinov2Embeddings.interpolate_pos_encoding of 4.40.2."""
        num_patches, num_positions = emb.shape[1] - 1, self.position_embeddings.shape[1] - 1
        if num_patches == num_positions and height == width:
            return self.position_embeddings
        cls_pos, patch_pos = self.position_embeddings[:, 0], self.position_embeddings[:, 1:]
        dim = emb.shape[-1]
        h0, w0 = height // self.P + 0.1, width // self.P + 0.1
        n = int(math.sqrt(num_positions))
        patch_pos = patch_pos.reshape(1, n, n, dim).permute(0, 3, 1, 2)
        # In float32 whatever the weights' dtype, then back to it, as transformers does.
        patch_pos = F.interpolate(patch_pos.to(torch.float32),
                                  scale_factor=(float(h0 / n), float(w0 / n)),
                                  mode="bicubic", align_corners=False).to(patch_pos.dtype)
        patch_pos = patch_pos.permute(0, 2, 3, 1).view(1, -1, dim)
        return torch.cat((cls_pos.unsqueeze(0), patch_pos), dim=1)

    def forward(self, px):
        B, _, height, width = px.shape
        patches = self.patch_embeddings.projection(px).flatten(2).transpose(1, 2)
        emb = torch.cat([self.cls_token.expand(B, -1, -1), patches], dim=1)
        return emb + self.interpolate_pos_encoding(emb, height, width)


class Dinov2Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, eps = c["hidden_size"], c["layer_norm_eps"]
        self.heads, self.d = c["num_attention_heads"], H // c["num_attention_heads"]
        self.norm1, self.norm2 = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)
        self.attention = nn.Module()
        self.attention.attention = nn.Module()
        for n in ("query", "key", "value"):
            setattr(self.attention.attention, n, nn.Linear(H, H, bias=c["qkv_bias"]))
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(H, H)
        self.layer_scale1, self.layer_scale2 = nn.Module(), nn.Module()
        self.layer_scale1.lambda1 = nn.Parameter(torch.ones(H))
        self.layer_scale2.lambda1 = nn.Parameter(torch.ones(H))
        self.mlp = nn.Module()
        hidden = int(H * c["mlp_ratio"])
        self.swiglu = c["use_swiglu_ffn"]
        if self.swiglu:
            hidden = (int(hidden * 2 / 3) + 7) // 8 * 8
            self.mlp.weights_in = nn.Linear(H, 2 * hidden)
            self.mlp.weights_out = nn.Linear(hidden, H)
        else:
            self.mlp.fc1, self.mlp.fc2 = nn.Linear(H, hidden), nn.Linear(hidden, H)
            self.act = make_activation(c["hidden_act"])

    def attn(self, x):
        B, T, H = x.shape
        a = self.attention.attention

        def split(t):
            return t.view(B, T, self.heads, self.d).transpose(1, 2)

        s = split(a.query(x)) @ split(a.key(x)).transpose(-1, -2) / math.sqrt(self.d)
        ctx = (torch.softmax(s, dim=-1) @ split(a.value(x))).transpose(1, 2).reshape(B, T, H)
        return self.attention.output.dense(ctx)

    def ffn(self, x):
        if self.swiglu:
            x1, x2 = self.mlp.weights_in(x).chunk(2, dim=-1)
            return self.mlp.weights_out(F.silu(x1) * x2)
        return self.mlp.fc2(self.act(self.mlp.fc1(x)))

    def forward(self, x):
        x = x + self.layer_scale1.lambda1 * self.attn(self.norm1(x))
        return x + self.layer_scale2.lambda1 * self.ffn(self.norm2(x))


class Dinov2(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Dinov2Embeddings(c)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(Dinov2Layer(c) for _ in range(c["num_hidden_layers"]))
        self.layernorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, px):
        h = self.embeddings(px)
        for layer in self.encoder.layer:
            h = layer(h)
        last = self.layernorm(h)
        return {"last_hidden_state": last, "pooler_output": last[:, 0]}


def load_model(model_dir):
    cfg = vision_config(model_dir)
    model = CLIPVision(cfg) if cfg["family"] == "clip" else Dinov2(cfg)
    state = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    # A two-tower CLIPModel file also holds the text tower: only the vision side is read.
    keep = {k: v for k, v in state.items()
            if not k.startswith(("text_model.", "text_projection", "logit_scale"))}
    model.load_state_dict(keep, strict=True)
    return model.eval()


def run(model_dir, pixel_values):
    model = load_model(model_dir)
    with torch.no_grad():
        out = model(torch.from_numpy(np.ascontiguousarray(pixel_values, dtype=np.float32)))
    return {k: v.numpy() for k, v in out.items()}


def main(argv):
    if len(argv) >= 2 and argv[0] == "selftest":
        worst = 0.0
        for d in argv[1:]:
            got = run(d, np.load(os.path.join(d, "inputs.pixel_values.npy")))
            for name, arr in got.items():
                path = os.path.join(d, f"expected.{name}.npy")
                if os.path.exists(path):
                    diff = float(np.abs(arr - np.load(path)).max())
                    worst = max(worst, diff)
                    if diff > 1e-4:
                        print(f"{d}: {name} max abs diff {diff:.2e}")
                        return 1
        print(f"reference reproduces transformers' fixtures: max abs diff {worst:.2e}")
        return 0
    if len(argv) == 4 and argv[0] == "run":
        for name, arr in run(argv[1], np.load(argv[2])).items():
            np.save(f"{argv[3]}.{name}.npy", arr)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
