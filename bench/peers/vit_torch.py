#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# vit_torch.py — the PyTorch side of the peer benchmark: loads a vitc model directory with the
# test suite's references (tests/torch/vit_reference.py for ViT, family_reference.py for CLIP's
# vision tower and DINOv2: same weights, transformers' structure) and wraps it so a forward
# returns only (last_hidden_state, head), head being the model's default output (ViT:
# pooler_output or logits; CLIP: image_embeds; DINOv2: pooler_output): the ViT reference also
# stacks every hidden state for the tests, which a user's model would not do and which would
# cost the peers time. Not part of vitc.

import json
import os
import sys

from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "torch"))
import family_reference  # noqa: E402
import vit_reference  # noqa: E402


class BenchViT(nn.Module):
    """pixel_values [B, C, S, S] -> (last_hidden_state [B, T, D], head [B, D or labels])."""

    def __init__(self, model):
        super().__init__()
        self.classifier = getattr(model, "classifier", None)
        self.vit = model.vit if self.classifier is not None else model

    def forward(self, pixel_values):
        x = self.vit.embeddings(pixel_values)
        for layer in self.vit.encoder.layer:
            x = layer(x)
        h = self.vit.layernorm(x)
        if self.classifier is not None:
            return h, self.classifier(h[:, 0, :])
        if self.vit.pooler is not None:
            return h, self.vit.pooler(h)
        return h, h[:, 0, :]


class BenchFamily(nn.Module):
    """The same for a family reference, whose forward returns a dict of outputs."""

    def __init__(self, model, head):
        super().__init__()
        self.model, self.head = model, head

    def forward(self, pixel_values):
        out = self.model(pixel_values)
        return out["last_hidden_state"], out[self.head]


def head_name(model):
    """What the second output is: 'logits', 'pooler_output', 'cls' or 'image_embeds'."""
    if isinstance(model, BenchFamily):
        return model.head
    if model.classifier is not None:
        return "logits"
    return "pooler_output" if model.vit.pooler is not None else "cls"


def input_size(model_dir, cfg):
    """The side vitc runs the model at: config's image_size, but for DINOv2 its processor's
    crop (published DINOv2 configs say 518, their processors crop to 224)."""
    if cfg.get("family") != "dinov2":
        return cfg["image_size"]
    with open(os.path.join(model_dir, "preprocessor_config.json"), encoding="utf-8") as f:
        crop = json.load(f).get("crop_size", cfg["image_size"])
    return crop["height"] if isinstance(crop, dict) else int(crop)


def load(model_dir):
    """(model in eval mode, config dict) for a model directory; cfg["family"] is "vit", "clip"
    or "dinov2" and cfg["image_size"] the side of the benchmark's inputs."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        kind = json.load(f).get("model_type", "")
    if kind in ("clip", "clip_vision_model", "dinov2"):
        cfg = family_reference.vision_config(model_dir)
        cfg["image_size"] = input_size(model_dir, cfg)
        head = "image_embeds" if cfg["family"] == "clip" else "pooler_output"
        return BenchFamily(family_reference.load_model(model_dir), head).eval(), cfg
    model, cfg = vit_reference.load_model(model_dir)
    cfg["family"] = "vit"
    return BenchViT(model).eval(), cfg
