/* SPDX-License-Identifier: MIT
 *
 * presets_data.c — the preset table: config.json and preprocessor_config.json
 * texts as published on the Hugging Face hub under google/<name> (each is
 * transformers' json.dumps(indent=2, sort_keys=True) plus a newline), and one
 * small unpublished preset for tests. Pure data; no logic lives here.
 *
 * Provenance. Every google/ViT config.json was last changed by the hub commit
 * "Add TF model" (Nov 2021), which added "_name_or_path", "qkv_bias" and
 * "transformers_version": "4.13.0.dev0"; the texts below are those files.
 * Byte sizes agree with the hub listings (in21k: base 502, large 504, huge 503
 * bytes; ImageNet-1k: 69.7 kB, 2024 lines). The backbone texts and the
 * ImageNet-1k head, mid and tail parts were reconstructed from the hub's blame
 * and diff views rather than fetched whole; the ImageNet-1k label lists come
 * from imagenet_labels.c. The preprocessor files (160 bytes) are identical for
 * every published preset except "size" (224 or 384).
 */
#include "presets/presets_data.h"

#include <string.h>

/* Hand-laid data (one string per line of the file): keep the formatter out. */
/* clang-format off */
/* ---- preprocessor_config.json ---- */

static const char preprocessor_224[] =
    "{\n"
    "  \"do_normalize\": true,\n"
    "  \"do_resize\": true,\n"
    "  \"image_mean\": [\n"
    "    0.5,\n"
    "    0.5,\n"
    "    0.5\n"
    "  ],\n"
    "  \"image_std\": [\n"
    "    0.5,\n"
    "    0.5,\n"
    "    0.5\n"
    "  ],\n"
    "  \"size\": 224\n"
    "}\n";

static const char preprocessor_384[] =
    "{\n"
    "  \"do_normalize\": true,\n"
    "  \"do_resize\": true,\n"
    "  \"image_mean\": [\n"
    "    0.5,\n"
    "    0.5,\n"
    "    0.5\n"
    "  ],\n"
    "  \"image_std\": [\n"
    "    0.5,\n"
    "    0.5,\n"
    "    0.5\n"
    "  ],\n"
    "  \"size\": 384\n"
    "}\n";

/* tiny-test: the current ViTImageProcessor layout ("size" as a dict). */
static const char preprocessor_tiny[] =
    "{\n"
    "  \"do_normalize\": true,\n"
    "  \"do_rescale\": true,\n"
    "  \"do_resize\": true,\n"
    "  \"image_mean\": [\n"
    "    0.5,\n"
    "    0.5,\n"
    "    0.5\n"
    "  ],\n"
    "  \"image_processor_type\": \"ViTImageProcessor\",\n"
    "  \"image_std\": [\n"
    "    0.5,\n"
    "    0.5,\n"
    "    0.5\n"
    "  ],\n"
    "  \"resample\": 2,\n"
    "  \"rescale_factor\": 0.00392156862745098,\n"
    "  \"size\": {\n"
    "    \"height\": 32,\n"
    "    \"width\": 32\n"
    "  }\n"
    "}\n";

/* ---- ImageNet-21k backbones (ViTModel) ---- */

static const char config_vit_base_patch16_224_in21k[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-base-patch16-224-in21k\",\n"
    "  \"architectures\": [\n"
    "    \"ViTModel\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 768,\n"
    "  \"image_size\": 224,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 3072,\n"
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 12,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 12,\n"
    "  \"patch_size\": 16,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char config_vit_base_patch32_224_in21k[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-base-patch32-224-in21k\",\n"
    "  \"architectures\": [\n"
    "    \"ViTModel\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 768,\n"
    "  \"image_size\": 224,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 3072,\n"
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 12,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 12,\n"
    "  \"patch_size\": 32,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char config_vit_large_patch16_224_in21k[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-large-patch16-224-in21k\",\n"
    "  \"architectures\": [\n"
    "    \"ViTModel\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 1024,\n"
    "  \"image_size\": 224,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 4096,\n"
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 16,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 24,\n"
    "  \"patch_size\": 16,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char config_vit_large_patch32_224_in21k[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-large-patch32-224-in21k\",\n"
    "  \"architectures\": [\n"
    "    \"ViTModel\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 1024,\n"
    "  \"image_size\": 224,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 4096,\n"
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 16,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 24,\n"
    "  \"patch_size\": 32,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char config_vit_huge_patch14_224_in21k[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-huge-patch14-224-in21k\",\n"
    "  \"architectures\": [\n"
    "    \"ViTModel\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 1280,\n"
    "  \"image_size\": 224,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 5120,\n"
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 16,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 32,\n"
    "  \"patch_size\": 14,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

/* tiny-test: NOT a published model. A ViTModel small enough for unit tests
 * (hidden 64, 2 layers, 4 heads, MLP 128, 32x32 images, 8x8 patches). */
static const char config_tiny_test[] =
    "{\n"
    "  \"architectures\": [\n"
    "    \"ViTModel\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 64,\n"
    "  \"image_size\": 32,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 128,\n"
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 4,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 2,\n"
    "  \"patch_size\": 8,\n"
    "  \"qkv_bias\": true\n"
    "}\n";

/* ---- ImageNet-1k classifiers (ViTForImageClassification) ---- */

static const char head_vit_base_patch16_224[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-base-patch16-224\",\n"
    "  \"architectures\": [\n"
    "    \"ViTForImageClassification\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 768,\n";

static const char mid_vit_base_patch16_224[] =
    "  \"image_size\": 224,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 3072,\n";

static const char tail_vit_base_patch16_224[] =
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 12,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 12,\n"
    "  \"patch_size\": 16,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char head_vit_base_patch16_384[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-base-patch16-384\",\n"
    "  \"architectures\": [\n"
    "    \"ViTForImageClassification\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 768,\n";

static const char mid_vit_base_patch16_384[] =
    "  \"image_size\": 384,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 3072,\n";

static const char tail_vit_base_patch16_384[] =
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 12,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 12,\n"
    "  \"patch_size\": 16,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char head_vit_base_patch32_384[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-base-patch32-384\",\n"
    "  \"architectures\": [\n"
    "    \"ViTForImageClassification\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 768,\n";

static const char mid_vit_base_patch32_384[] =
    "  \"image_size\": 384,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 3072,\n";

static const char tail_vit_base_patch32_384[] =
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 12,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 12,\n"
    "  \"patch_size\": 32,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char head_vit_large_patch16_224[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-large-patch16-224\",\n"
    "  \"architectures\": [\n"
    "    \"ViTForImageClassification\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 1024,\n";

static const char mid_vit_large_patch16_224[] =
    "  \"image_size\": 224,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 4096,\n";

static const char tail_vit_large_patch16_224[] =
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 16,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 24,\n"
    "  \"patch_size\": 16,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char head_vit_large_patch16_384[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-large-patch16-384\",\n"
    "  \"architectures\": [\n"
    "    \"ViTForImageClassification\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 1024,\n";

static const char mid_vit_large_patch16_384[] =
    "  \"image_size\": 384,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 4096,\n";

static const char tail_vit_large_patch16_384[] =
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 16,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 24,\n"
    "  \"patch_size\": 16,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

static const char head_vit_large_patch32_384[] =
    "{\n"
    "  \"_name_or_path\": \"google/vit-large-patch32-384\",\n"
    "  \"architectures\": [\n"
    "    \"ViTForImageClassification\"\n"
    "  ],\n"
    "  \"attention_probs_dropout_prob\": 0.0,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.0,\n"
    "  \"hidden_size\": 1024,\n";

static const char mid_vit_large_patch32_384[] =
    "  \"image_size\": 384,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 4096,\n";

static const char tail_vit_large_patch32_384[] =
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"model_type\": \"vit\",\n"
    "  \"num_attention_heads\": 16,\n"
    "  \"num_channels\": 3,\n"
    "  \"num_hidden_layers\": 24,\n"
    "  \"patch_size\": 32,\n"
    "  \"qkv_bias\": true,\n"
    "  \"transformers_version\": \"4.13.0.dev0\"\n"
    "}\n";

/* clang-format on */

/* ---- the table ---- */

static const struct vitc_preset presets[] = {
    {.name = "vit-base-patch16-224-in21k",
     .about = "ViT-B/16, ImageNet-21k pre-trained backbone with pooler (the default)",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = config_vit_base_patch16_224_in21k,
     .preprocessor_json = preprocessor_224},
    {.name = "vit-base-patch32-224-in21k",
     .about = "ViT-B/32, ImageNet-21k pre-trained backbone with pooler",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = config_vit_base_patch32_224_in21k,
     .preprocessor_json = preprocessor_224},
    {.name = "vit-large-patch16-224-in21k",
     .about = "ViT-L/16, ImageNet-21k pre-trained backbone with pooler",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = config_vit_large_patch16_224_in21k,
     .preprocessor_json = preprocessor_224},
    {.name = "vit-large-patch32-224-in21k",
     .about = "ViT-L/32, ImageNet-21k pre-trained backbone with pooler",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = config_vit_large_patch32_224_in21k,
     .preprocessor_json = preprocessor_224},
    {.name = "vit-huge-patch14-224-in21k",
     .about = "ViT-H/14, ImageNet-21k pre-trained backbone with pooler",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = config_vit_huge_patch14_224_in21k,
     .preprocessor_json = preprocessor_224},
    {.name = "vit-base-patch16-224",
     .about = "ViT-B/16 ImageNet-1k classifier, 224x224",
     .published = true,
     .kind = VITC_PRESET_IMAGENET1K,
     .config_head = head_vit_base_patch16_224,
     .config_mid = mid_vit_base_patch16_224,
     .config_tail = tail_vit_base_patch16_224,
     .preprocessor_json = preprocessor_224},
    {.name = "vit-base-patch16-384",
     .about = "ViT-B/16 ImageNet-1k classifier, 384x384",
     .published = true,
     .kind = VITC_PRESET_IMAGENET1K,
     .config_head = head_vit_base_patch16_384,
     .config_mid = mid_vit_base_patch16_384,
     .config_tail = tail_vit_base_patch16_384,
     .preprocessor_json = preprocessor_384},
    {.name = "vit-base-patch32-384",
     .about = "ViT-B/32 ImageNet-1k classifier, 384x384",
     .published = true,
     .kind = VITC_PRESET_IMAGENET1K,
     .config_head = head_vit_base_patch32_384,
     .config_mid = mid_vit_base_patch32_384,
     .config_tail = tail_vit_base_patch32_384,
     .preprocessor_json = preprocessor_384},
    {.name = "vit-large-patch16-224",
     .about = "ViT-L/16 ImageNet-1k classifier, 224x224",
     .published = true,
     .kind = VITC_PRESET_IMAGENET1K,
     .config_head = head_vit_large_patch16_224,
     .config_mid = mid_vit_large_patch16_224,
     .config_tail = tail_vit_large_patch16_224,
     .preprocessor_json = preprocessor_224},
    {.name = "vit-large-patch16-384",
     .about = "ViT-L/16 ImageNet-1k classifier, 384x384",
     .published = true,
     .kind = VITC_PRESET_IMAGENET1K,
     .config_head = head_vit_large_patch16_384,
     .config_mid = mid_vit_large_patch16_384,
     .config_tail = tail_vit_large_patch16_384,
     .preprocessor_json = preprocessor_384},
    {.name = "vit-large-patch32-384",
     .about = "ViT-L/32 ImageNet-1k classifier, 384x384",
     .published = true,
     .kind = VITC_PRESET_IMAGENET1K,
     .config_head = head_vit_large_patch32_384,
     .config_mid = mid_vit_large_patch32_384,
     .config_tail = tail_vit_large_patch32_384,
     .preprocessor_json = preprocessor_384},
    {.name = "clip-vit-base-patch32",
     .about = "CLIP ViT-B/32 vision tower with projection (openai/clip-vit-base-patch32)",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = vitc_preset_config_clip_vit_base_patch32,
     .preprocessor_json = vitc_preset_preprocessor_clip},
    {.name = "siglip-base-patch16-224",
     .about = "SigLIP B/16 vision tower (google/siglip-base-patch16-224)",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = vitc_preset_config_siglip_base_patch16_224,
     .preprocessor_json = vitc_preset_preprocessor_siglip},
    {.name = "dinov2-small",
     .about = "DINOv2 ViT-S/14 (facebook/dinov2-small)",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = vitc_preset_config_dinov2_small,
     .preprocessor_json = vitc_preset_preprocessor_bit},
    {.name = "dinov2-base",
     .about = "DINOv2 ViT-B/14 (facebook/dinov2-base)",
     .published = true,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = vitc_preset_config_dinov2_base,
     .preprocessor_json = vitc_preset_preprocessor_bit},
    {.name = "deit-base-distilled-patch16-224",
     .about =
         "DeiT-B/16 distilled ImageNet-1k classifier (facebook/deit-base-distilled-patch16-224)",
     .published = true,
     .kind = VITC_PRESET_IMAGENET1K,
     .config_head = vitc_preset_head_deit_base_distilled,
     .config_mid = vitc_preset_mid_deit_base_distilled,
     .config_tail = vitc_preset_tail_deit_base_distilled,
     .preprocessor_json = vitc_preset_preprocessor_deit},
    {.name = "tiny-test",
     .about = "small random ViT for tests (not a published model)",
     .published = false,
     .kind = VITC_PRESET_BACKBONE,
     .config_json = config_tiny_test,
     .preprocessor_json = preprocessor_tiny},
};

const struct vitc_preset *vitc_presets_get(size_t i)
{
    return i < sizeof presets / sizeof presets[0] ? &presets[i] : NULL;
}

const struct vitc_preset *vitc_presets_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(presets[i].name, name) == 0) {
            return &presets[i];
        }
    }
    return NULL;
}
