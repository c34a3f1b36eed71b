/* SPDX-License-Identifier: MIT
 *
 * family.c — the family table: for ViT, DeiT, CLIP's and SigLIP's
 * vision towers and DINOv2,
 * the Hugging Face tensor names (transformers 4.40.2's state_dict) and the
 * graph options, as data. Model layer: no code beyond the lookup.
 */
#include "model/family.h"

static const struct vitc_family_desc table[] = {
    {
        /* ViTModel / ViTForImageClassification (modeling_vit.py) */
        .family = VITC_FAMILY_VIT,
        .model_type = "vit",
        .processor = VITC_PROCESSOR_VIT,
        .head_prefix = "vit.",
        .base_prefix = "",
        .cls = "embeddings.cls_token",
        .token_rank = 3,
        .pos = "embeddings.position_embeddings",
        .patch = "embeddings.patch_embeddings.projection",
        .patch_bias = true,
        .layer = "encoder.layer.%d.",
        .ln1 = "layernorm_before",
        .q = "attention.attention.query",
        .k = "attention.attention.key",
        .v = "attention.attention.value",
        .attn_out = "attention.output.dense",
        .ln2 = "layernorm_after",
        .fc1 = "intermediate.dense",
        .fc2 = "output.dense",
        .final_ln = "layernorm",
        .final_norm = true,
        .pooler = "pooler.dense",
        .classifier = "classifier",
        .unused = "embeddings.mask_token",
    },
    {
        /* DeiTModel / DeiTForImageClassificationWithTeacher (modeling_deit.py):
         * ViT's layers with a distillation token and two heads. */
        .family = VITC_FAMILY_DEIT,
        .model_type = "deit",
        .processor = VITC_PROCESSOR_DEIT,
        .head_prefix = "deit.",
        .base_prefix = "",
        .cls = "embeddings.cls_token",
        .dist = "embeddings.distillation_token",
        .token_rank = 3,
        .pos = "embeddings.position_embeddings",
        .patch = "embeddings.patch_embeddings.projection",
        .patch_bias = true,
        .layer = "encoder.layer.%d.",
        .ln1 = "layernorm_before",
        .q = "attention.attention.query",
        .k = "attention.attention.key",
        .v = "attention.attention.value",
        .attn_out = "attention.output.dense",
        .ln2 = "layernorm_after",
        .fc1 = "intermediate.dense",
        .fc2 = "output.dense",
        .final_ln = "layernorm",
        .final_norm = true,
        .pooler = "pooler.dense",
        .classifier = "cls_classifier",
        .distill = "distillation_classifier",
        .unused = "embeddings.mask_token",
    },
    {
        /* CLIPModel's vision tower and CLIPVisionModelWithProjection
         * (modeling_clip.py): bias-free patch conv, pre_layrnorm, no final
         * LayerNorm on the sequence, post_layernorm on the CLS token. */
        .family = VITC_FAMILY_CLIP,
        .model_type = "clip",
        .processor = VITC_PROCESSOR_CLIP,
        .base_prefix = "vision_model.",
        .cls = "embeddings.class_embedding",
        .token_rank = 1,
        .pos = "embeddings.position_embedding.weight",
        .patch = "embeddings.patch_embedding",
        .patch_bias = false,
        .pre_ln = "pre_layrnorm",
        .layer = "encoder.layers.%d.",
        .ln1 = "layer_norm1",
        .q = "self_attn.q_proj",
        .k = "self_attn.k_proj",
        .v = "self_attn.v_proj",
        .attn_out = "self_attn.out_proj",
        .ln2 = "layer_norm2",
        .fc1 = "mlp.fc1",
        .fc2 = "mlp.fc2",
        .final_ln = "post_layernorm",
        .final_norm = false,
        .pool = VITC_POOL_CLS_LN,
        .projection = "visual_projection",
        .other = {"text_model.", "text_projection.", "logit_scale"},
    },
    {
        /* Dinov2Model (modeling_dinov2.py): layer scale, optional SwiGLU,
         * the position table interpolated to the input grid, pooler_output
         * = the normalized CLS token. */
        .family = VITC_FAMILY_DINOV2,
        .model_type = "dinov2",
        .processor = VITC_PROCESSOR_BIT,
        .base_prefix = "",
        .cls = "embeddings.cls_token",
        .token_rank = 3,
        .pos = "embeddings.position_embeddings",
        .patch = "embeddings.patch_embeddings.projection",
        .patch_bias = true,
        .layer = "encoder.layer.%d.",
        .ln1 = "norm1",
        .q = "attention.attention.query",
        .k = "attention.attention.key",
        .v = "attention.attention.value",
        .attn_out = "attention.output.dense",
        .ln2 = "norm2",
        .fc1 = "mlp.fc1",
        .fc2 = "mlp.fc2",
        .ls1 = "layer_scale1.lambda1",
        .ls2 = "layer_scale2.lambda1",
        .glu_in = "mlp.weights_in",
        .glu_out = "mlp.weights_out",
        .final_ln = "layernorm",
        .final_norm = true,
        .pool = VITC_POOL_CLS,
        .interpolate = true,
        .unused = "embeddings.mask_token",
    },
    {
        /* SiglipModel's vision tower and SiglipVisionModel
         * (modeling_siglip.py): no CLS token, post_layernorm on every token,
         * the attention-pooling head. */
        .family = VITC_FAMILY_SIGLIP,
        .model_type = "siglip",
        .processor = VITC_PROCESSOR_SIGLIP,
        .base_prefix = "vision_model.",
        .token_rank = 1,
        .pos = "embeddings.position_embedding.weight",
        .patch = "embeddings.patch_embedding",
        .patch_bias = true,
        .layer = "encoder.layers.%d.",
        .ln1 = "layer_norm1",
        .q = "self_attn.q_proj",
        .k = "self_attn.k_proj",
        .v = "self_attn.v_proj",
        .attn_out = "self_attn.out_proj",
        .ln2 = "layer_norm2",
        .fc1 = "mlp.fc1",
        .fc2 = "mlp.fc2",
        .final_ln = "post_layernorm",
        .final_norm = true,
        .pool = VITC_POOL_MAP,
        .head = "head.",
        .other = {"text_model.", "logit_scale", "logit_bias"},
    },
};

const struct vitc_family_desc *vitc_family_get(enum vitc_family f)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].family == f) {
            return &table[i];
        }
    }
    return &table[0];
}
