/* SPDX-License-Identifier: MIT
 *
 * vitc.h — Vision Transformer (ViT) inference in C.
 *
 * vitc loads a Hugging Face ViT checkpoint directory as it is published
 * (config.json, model.safetensors, preprocessor_config.json), preprocesses
 * images exactly like transformers' ViTImageProcessor (Pillow's resize,
 * bit for bit) and runs the forward pass of ViTModel /
 * ViTForImageClassification.
 *
 * Usage:
 *
 *     vitc_model *model = NULL;
 *     vitc_ctx *ctx = NULL;
 *     vitc_image *img = NULL;
 *     if (vitc_model_load("vit-base-patch16-224-in21k", NULL, &model) != VITC_OK ||
 *         vitc_ctx_new(model, NULL, &ctx) != VITC_OK ||
 *         vitc_image_load("cat.jpg", &img) != VITC_OK) {
 *         fprintf(stderr, "%s\n", vitc_last_error());
 *     }
 *     float *pv = malloc(vitc_output_size(model, VITC_OUTPUT_PIXEL_VALUES) * sizeof(float));
 *     vitc_preprocess(&vitc_model_get_info(model)->preprocess, img, pv, n_pv);
 *     vitc_forward(ctx, pv, 1);
 *     vitc_get_output(ctx, VITC_OUTPUT_POOLER, emb, n_emb);
 *
 * Threads and ownership:
 *   - A vitc_model is immutable after vitc_model_load and may be shared by any
 *     number of threads. It must outlive every vitc_ctx made from it.
 *   - A vitc_ctx is not thread-safe: use one per thread.
 *   - Every object is freed by its own _free function, which accepts NULL.
 *   - Constructors write *out only on VITC_OK; on failure *out is NULL.
 *   - On failure every call returns a vitc_status and sets a message for the
 *     calling thread (vitc_last_error) naming the file and the reason. The
 *     library never prints, exits or aborts on bad input.
 *
 * Tensors are float32, row-major (C order). pixel_values are [N, C, H, W].
 */
#ifndef VITC_H
#define VITC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VITC_BUILD) && defined(__GNUC__)
#define VITC_API __attribute__((visibility("default")))
#else
#define VITC_API
#endif

#define VITC_VERSION_MAJOR 0
#define VITC_VERSION_MINOR 1
#define VITC_VERSION_PATCH 0

/* Images larger than this are refused before any pixel memory is allocated
 * (decompression bombs). Pillow raises DecompressionBombError at 2x its
 * MAX_IMAGE_PIXELS, i.e. at 178,956,970 pixels; the same bound is used here. */
#define VITC_MAX_IMAGE_PIXELS 178956970u
#define VITC_MAX_IMAGE_SIDE   65535u

/* ---- Errors ------------------------------------------------------------- */

typedef enum vitc_status {
    VITC_OK = 0,
    VITC_ERR_INVALID_ARG, /* a caller passed something impossible            */
    VITC_ERR_IO,          /* a file is missing, unreadable or unwritable     */
    VITC_ERR_FORMAT,      /* bad safetensors, JSON, image or .npy contents   */
    VITC_ERR_UNSUPPORTED, /* valid input this build cannot handle            */
    VITC_ERR_NOMEM,       /* an allocation failed                            */
    VITC_ERR_BACKEND      /* the compute backend failed                      */
} vitc_status;

/* Static text for a status code ("invalid argument", ...). Never NULL. */
VITC_API const char *vitc_status_str(vitc_status status);

/* The message of this thread's most recent failure, e.g.
 * "m/config.json: missing 'num_attention_heads'". Owned by the library;
 * valid until the next failing vitc call on this thread. Never NULL. */
VITC_API const char *vitc_last_error(void);

/* "MAJOR.MINOR.PATCH" of the linked library. */
VITC_API const char *vitc_version(void);

/* ---- Preprocessing parameters (preprocessor_config.json) ------------------ */

/* Pillow resampling filters, numbered as PIL.Image.Resampling. */
typedef enum vitc_resample {
    VITC_RESAMPLE_NEAREST  = 0,
    VITC_RESAMPLE_LANCZOS  = 1,
    VITC_RESAMPLE_BILINEAR = 2,
    VITC_RESAMPLE_BICUBIC  = 3,
    VITC_RESAMPLE_BOX      = 4,
    VITC_RESAMPLE_HAMMING  = 5
} vitc_resample;

/* An image processor's settings (transformers' ViTImageProcessor,
 * DeiTImageProcessor, CLIPImageProcessor, BitImageProcessor and
 * SiglipImageProcessor). Field names follow preprocessor_config.json. The
 * steps, in order: resize (to height x width, or the short side to
 * shortest_edge keeping the aspect ratio), center crop, rescale, normalize. */
typedef struct vitc_preprocess_params {
    bool   do_resize;
    int    height, width;     /* size = {"height","width"} (or a bare int) */
    int    resample;          /* vitc_resample                             */
    bool   do_rescale;
    double rescale_factor;
    bool   do_normalize;
    double image_mean[3];
    double image_std[3];
    bool   do_convert_rgb;
    /* Cropping processors (CLIP, Bit, DeiT). shortest_edge > 0: size is
     * {"shortest_edge": N}, the short side becomes N and the long side
     * floor(N * long / short), height and width are unused. */
    int    shortest_edge;
    bool   do_center_crop;    /* then crop_height x crop_width, centred     */
    int    crop_height, crop_width;
    const char *processor;    /* "ViTImageProcessor", "CLIPImageProcessor",
                                 ... (static string; NULL: ViT's)           */
} vitc_preprocess_params;

/* ViTImageProcessor's defaults: resize to 224x224 bilinear, rescale 1/255,
 * normalize with mean = std = 0.5. */
VITC_API vitc_preprocess_params vitc_preprocess_default_params(void);

/* Reads a preprocessor_config.json. The processor class comes from
 * image_processor_type (or feature_extractor_type, "FeatureExtractor" read
 * as "ImageProcessor"), else ViTImageProcessor; absent fields take that
 * class's defaults, unknown fields are ignored. On failure *out is left
 * unchanged. */
VITC_API vitc_status vitc_preprocess_params_load(const char *path, vitc_preprocess_params *out);

/* The size vitc_preprocess makes of an image of width x height, into
 * *out_height / *out_width: the crop size, else the resize size, else the
 * image's own. */
VITC_API vitc_status vitc_preprocess_output_size(const vitc_preprocess_params *p, int width,
                                                 int height, int *out_width, int *out_height);

/* True when every image preprocesses to the same size (a crop, or a
 * resize to height x width), given then in *out_height / *out_width. */
VITC_API bool vitc_preprocess_fixed_size(const vitc_preprocess_params *p, int *out_width,
                                         int *out_height);

/* ---- Images --------------------------------------------------------------- */

/* An 8-bit RGB image, rows top to bottom, 3 bytes per pixel, `stride` bytes
 * per row. Callers with their own pixels fill one in and keep ownership;
 * images made by the library are freed with vitc_image_free. */
typedef struct vitc_image {
    int      width;
    int      height;
    size_t   stride;
    uint8_t *data;            /* (height, stride) */
} vitc_image;

/* Decodes an image file to RGB exactly as transformers' load_image does
 * (Pillow 9.4's Image.open, EXIF orientation applied, then convert("RGB"):
 * alpha dropped, palette expanded, 16-bit samples as Pillow handles them,
 * CMYK converted). Reads JPEG, PNG, WebP (lossy or lossless), GIF (the
 * first frame of an animation) and BMP; the format comes from the first bytes,
 * never its name. Formats Pillow may open but vitc does not (JPEG 2000,
 * HEIF, AVIF, ...) fail with VITC_ERR_UNSUPPORTED naming the format; other
 * bytes, truncated or corrupt files with VITC_ERR_FORMAT, naming the file.
 * Refuses images over VITC_MAX_IMAGE_SIDE / VITC_MAX_IMAGE_PIXELS before
 * allocating pixels. Thread-safe. Caller frees *out with vitc_image_free. */
VITC_API vitc_status vitc_image_load(const char *path, vitc_image **out);

/* Same as vitc_image_load from a memory buffer; `name` is used in messages. */
VITC_API vitc_status vitc_image_load_memory(const void *data, size_t size, const char *name,
                                            vitc_image **out);

/* A new, zero-filled image owned by the caller (free with vitc_image_free). */
VITC_API vitc_status vitc_image_new(int width, int height, vitc_image **out);

VITC_API void vitc_image_free(vitc_image *img);

/* Resizes with Pillow's Image.resize((width, height), resample) algorithm,
 * bit for bit (libImaging/Resample.c: separable fixed-point passes,
 * horizontal first, antialiased support when shrinking). */
VITC_API vitc_status vitc_image_resize(const vitc_image *src, int width, int height,
                                       int resample, vitc_image **out);

/* Runs the image processor on one image: resize, center crop, rescale,
 * normalize, to CHW. out: float32 [3, H, W] with H x W from
 * vitc_preprocess_output_size; n_out is its length in floats and must
 * match. */
VITC_API vitc_status vitc_preprocess(const vitc_preprocess_params *p, const vitc_image *img,
                                     float *out, size_t n_out);

/* ---- Model ---------------------------------------------------------------- */

typedef struct vitc_model vitc_model;

typedef enum vitc_precision {
    VITC_PRECISION_FP32 = 0,
    VITC_PRECISION_BF16,
    VITC_PRECISION_INT8,
    VITC_PRECISION_FP16,
    VITC_PRECISION_TF32
} vitc_precision;

/* The precision a model computes in, chosen at load, when its weights are
 * converted once. CPU: FP32 (the reference), BF16 (bf16 weights and GEMM
 * inputs, fp32 accumulation; LayerNorm, softmax, GELU and the residual
 * stream in fp32), INT8 (per-output-channel symmetric int8 weights, dynamic
 * per-token uint8 activations, int32 accumulation; LayerNorm, softmax, GELU
 * and the residual stream in fp32). In both, attention's q.k and p.v take
 * bf16 inputs with fp32 accumulation where the CPU has AVX512_BF16. The
 * patch embedding, pooler and classifier stay fp32 in every CPU mode.
 * FP16 and TF32 are for a CUDA ctx; a CPU ctx refuses them. */
typedef struct vitc_model_params {
    vitc_precision precision; /* default FP32 */
    /* Input side in pixels for a square input, 0 for the checkpoint's own
     * (config.json's image_size; for DINOv2 its processor's output). Another
     * size resizes the position embeddings as transformers 4.40.2's
     * interpolate_pos_encoding does (ViT and DINOv2; DeiT, CLIP and SigLIP
     * have none and refuse it) and sets the processor to make that size
     * (see image_height). Ignored when image_height / image_width are set. */
    int image_size;
    /* Appended: the input as image_height x image_width pixels, square or
     * not (both 0, or both 1..65535). As transformers does, the patch grid is
     * floor(height / patch_size) x floor(width / patch_size): remainder
     * pixels at the bottom and right are ignored. The table is kept as it is
     * when the grid has the table's number of patches and the input is
     * square; otherwise it is resized bicubically (align_corners=False) with
     * the scale factor ((gh + 0.1) / N, (gw + 0.1) / N) of an N x N table,
     * as interpolate_pos_encoding does. The processor then makes that
     * size: a plain one resizes to exactly height x width (size =
     * {"height": H, "width": W}); a cropping one (CLIP, BitImageProcessor,
     * DeiT) resizes its short side to max(H, W) (size = {"shortest_edge":
     * max(H, W)}) and crops H x W from the centre (crop_size), so nothing
     * is stretched. The processor's own output size leaves it as published.
     * Refused (VITC_ERR_UNSUPPORTED,
     * naming the size and the limit): a grid of no patch, more than
     * VITC_MAX_INPUT_TOKENS tokens or VITC_MAX_INPUT_PIXELS pixels. */
    int image_height, image_width;
} vitc_model_params;

/* The largest inputs vitc_model_params may ask for: far above any
 * published resolution (DINOv2 at 518 px: 1,370 tokens), low enough that a
 * typo fails at load and not in an hours-long attention or a giant
 * allocation. Tokens count the prefix (CLS ...) too. */
#define VITC_MAX_INPUT_TOKENS 16384u
#define VITC_MAX_INPUT_PIXELS 16777216u /* 4096 x 4096 */

VITC_API vitc_model_params vitc_model_default_params(void);

/* What a loaded model is. Field names follow config.json. */
typedef struct vitc_model_info {
    const char *architecture;     /* "ViTModel" or "ViTForImageClassification" */
    int    hidden_size;
    int    num_hidden_layers;
    int    num_attention_heads;
    int    intermediate_size;
    int    image_size;            /* input side when square, else 0       */
    int    patch_size;
    int    num_channels;
    int    n_tokens;              /* n_prefix_tokens + (image_height /
                                     patch_size) * (image_width / patch_size) */
    double layer_norm_eps;
    bool   qkv_bias;
    const char *hidden_act;       /* "gelu", "gelu_new", "relu", ...        */
    bool   has_pooler;
    int    num_labels;            /* 0 when there is no classifier head     */
    uint64_t n_params;
    const char *file_dtype;       /* dtype stored in model.safetensors      */
    vitc_preprocess_params preprocess;
    /* Appended for the ViT family (DeiT, CLIP): */
    const char *family;           /* config.json's model_type: "vit", "deit",
                                     "clip" (the vision tower of CLIPModel or
                                     CLIPVisionModelWithProjection)          */
    const char *pooling;          /* how pooler_output is made: "tanh dense",
                                     "post-LayerNorm CLS" or "none"          */
    int    n_prefix_tokens;       /* tokens before the patches: 1 CLS, 2 CLS +
                                     distillation (DeiT)                     */
    int    projection_dim;        /* image_embeds width, 0 without one      */
    int    default_output;        /* (vitc_output) what `vitc embed` writes:
                                     image_embeds (CLIP), pooler_output, or
                                     cls                                     */
    /* Appended: the input vitc_forward takes, in pixels (square or not). */
    int    image_height, image_width;
} vitc_model_info;

/* Loads a model directory in Hugging Face layout: config.json,
 * model.safetensors (memory-mapped read-only, validated strictly; F32, F16
 * and BF16) and preprocessor_config.json (optional: defaults when absent).
 * params may be NULL for defaults. Caller frees *out with vitc_model_free. */
VITC_API vitc_status vitc_model_load(const char *dir, const vitc_model_params *params,
                                     vitc_model **out);

VITC_API void vitc_model_free(vitc_model *model);

/* Borrowed; valid while the model lives. */
VITC_API const vitc_model_info *vitc_model_get_info(const vitc_model *model);

/* id2label[id], or NULL when the model has no label for id. Borrowed; valid
 * while the model lives. */
VITC_API const char *vitc_model_label(const vitc_model *model, int id);

/* ---- Random-weight model directories (offline use, tests) ---------------- */

/* Name of the i-th built-in preset ("vit-base-patch16-224-in21k", ...), or
 * NULL past the last. Static string. */
VITC_API const char *vitc_preset_name(size_t i);

/* Writes a complete model directory for a preset: its published
 * config.json and preprocessor_config.json, and a model.safetensors of
 * seeded random weights marked as random in its metadata. Creates dir if
 * needed; refuses to overwrite an existing model.safetensors. */
VITC_API vitc_status vitc_preset_write(const char *dir, const char *preset, uint64_t seed);

/* ---- Context and inference ------------------------------------------------ */

typedef struct vitc_ctx vitc_ctx;

typedef enum vitc_backend {
    VITC_BACKEND_AUTO = 0,
    VITC_BACKEND_CPU,
    VITC_BACKEND_CUDA
} vitc_backend;

typedef struct vitc_ctx_params {
    vitc_backend backend;
    int device;               /* device index for VITC_BACKEND_CUDA        */
    int n_threads;            /* 0 = all available cores                   */
    int max_batch;            /* largest n_images passed to vitc_forward   */
} vitc_ctx_params;

VITC_API vitc_ctx_params vitc_ctx_default_params(void);

/* A per-thread working context; all activation memory is allocated here,
 * so vitc_forward never allocates. The model must outlive the ctx.
 * params may be NULL for defaults. AUTO is the CPU. A CUDA ctx uploads the
 * weights in the model's precision (fp32, tf32, bf16 or fp16; int8 fails
 * with VITC_ERR_UNSUPPORTED) and computes on one stream of its own; it
 * fails with VITC_ERR_UNSUPPORTED when no usable GPU is there ("no CUDA
 * device") or the build has no CUDA ("no CUDA backend"). */
VITC_API vitc_status vitc_ctx_new(const vitc_model *model, const vitc_ctx_params *params,
                                  vitc_ctx **out);

VITC_API void vitc_ctx_free(vitc_ctx *ctx);

typedef enum vitc_output {
    VITC_OUTPUT_PIXEL_VALUES = 0, /* [N, C, H, W] the input                 */
    VITC_OUTPUT_LAST_HIDDEN_STATE, /* [N, T, D] after the final LayerNorm    */
    VITC_OUTPUT_POOLER,           /* [N, D] pooler_output: tanh(dense(cls)) for
                                     ViT pooler models, post_layernorm(cls)
                                     for CLIP                                */
    VITC_OUTPUT_CLS,              /* [N, D] last_hidden_state[:, 0]         */
    VITC_OUTPUT_LOGITS,           /* [N, num_labels], classifier models;
                                     DeiT distilled: the mean of its two heads */
    VITC_OUTPUT_IMAGE_EMBEDS      /* [N, projection_dim] CLIP: visual_projection
                                     of pooler_output (not L2-normalized)     */
} vitc_output;

/* How many vitc_output values there are (0 .. VITC_N_OUTPUTS - 1). */
#define VITC_N_OUTPUTS 6

/* An output's name, as the CLI, the server and .npy files call it:
 * "pixel_values", "last_hidden_state", "pooler_output", "cls", "logits",
 * "image_embeds"; NULL for a value that is no vitc_output. */
VITC_API const char *vitc_output_name(vitc_output which);

/* The output called `name` (see vitc_output_name), or -1 when none is. */
VITC_API int vitc_output_by_name(const char *name);

/* Floats per image of an output, or 0 when the model does not have it. */
VITC_API size_t vitc_output_size(const vitc_model *model, vitc_output which);

/* Runs the forward pass on n_images images.
 * pixel_values: float32 [n_images, num_channels, image_height, image_width]
 * (vitc_model_info's).
 * 1 <= n_images <= the ctx's max_batch. Results stay in the ctx until the
 * next vitc_forward. */
VITC_API vitc_status vitc_forward(vitc_ctx *ctx, const float *pixel_values, size_t n_images);

/* Copies one output of the last vitc_forward into out (n_floats must be
 * n_images * vitc_output_size(model, which)). */
VITC_API vitc_status vitc_get_output(vitc_ctx *ctx, vitc_output which, float *out,
                                     size_t n_floats);

/* The CPU threads a ctx computes its forward pass on, the calling thread
 * included: n_threads as resolved at vitc_ctx_new (the params, else
 * VITC_NUM_THREADS, else the available cores). It tells a caller whose
 * environment may have set the count (VITC_NUM_THREADS in a job's workers)
 * what the ctx really runs. 0 for a CUDA ctx or NULL. Thread-safe: reads
 * only what vitc_ctx_new fixed. */
VITC_API int vitc_ctx_n_threads(const vitc_ctx *ctx);

/* The most device memory, in bytes, a CUDA ctx has held since it was made
 * (weights, activations, staging, workspace and captured forwards, as the
 * driver counts this process's use of the GPU). 0 for a CPU ctx or NULL. */
VITC_API size_t vitc_ctx_device_memory(const vitc_ctx *ctx);

/* The GPU time of this CUDA ctx's last vitc_forward, in ms, measured with
 * device events from its first to its last operation; waits for it to end.
 * VITC_ERR_UNSUPPORTED for a CPU ctx (time vitc_forward itself there),
 * VITC_ERR_INVALID_ARG before a forward has completed. */
VITC_API vitc_status vitc_ctx_device_time(vitc_ctx *ctx, double *ms);

/* Debug tap: called during vitc_forward after each named stage
 * ("embeddings", "layer.0" ... "layer.{L-1}" (block outputs before the
 * final LayerNorm), "last_hidden_state", "pooler", "logits") with a
 * read-only view of data [n_images * rows, cols]. fn = NULL removes it. */
typedef void (*vitc_tap_fn)(const char *stage, const float *data, size_t n_images, size_t rows,
                            size_t cols, void *user);
VITC_API void vitc_ctx_set_tap(vitc_ctx *ctx, vitc_tap_fn fn, void *user);

/* ---- .npy files ----------------------------------------------------------- */

typedef enum vitc_dtype {
    VITC_DTYPE_F32 = 0,
    VITC_DTYPE_U8
} vitc_dtype;

#define VITC_TENSOR_MAX_DIMS 8

/* A dense array read from or written to a .npy file. */
typedef struct vitc_tensor {
    vitc_dtype dtype;
    size_t     ndim;
    size_t     shape[VITC_TENSOR_MAX_DIMS];
    size_t     n_elems;
    void      *data;          /* n_elems elements, C order */
} vitc_tensor;

/* Reads a NumPy v1/v2/v3 .npy file of little-endian float32 ('<f4') or uint8
 * ('|u1'), C order. Caller frees *out with vitc_tensor_free. */
VITC_API vitc_status vitc_npy_load(const char *path, vitc_tensor **out);

VITC_API void vitc_tensor_free(vitc_tensor *t);

/* Writes float32 data of the given shape as a .npy file: to a temporary
 * file beside path, then renamed over it, so a failure never leaves a
 * truncated file at path nor destroys an existing one. */
VITC_API vitc_status vitc_npy_save(const char *path, const float *data, size_t ndim,
                                   const size_t *shape);

/* Bytes a .npy header written by vitc can take: VITC_TENSOR_MAX_DIMS axes of
 * 20 digits, numpy's 21-digit growth room for the first axis, 64-byte padding. */
#define VITC_NPY_HEADER_MAX 512

/* Formats the header vitc_npy_save and numpy.save write (v1.0, '<f4', C order,
 * magic and length included) for an array of shape[0..ndim) into buf, for
 * callers that send .npy bytes rather than write a file; the data follows it as
 * little-endian float32. Returns its length (a multiple of 64), or 0 when
 * ndim > VITC_TENSOR_MAX_DIMS or buf_size < VITC_NPY_HEADER_MAX. */
VITC_API size_t vitc_npy_header(char *buf, size_t buf_size, size_t ndim, const size_t *shape);

/* ---- Streaming array files (.npy, .safetensors) ---------------------------- */

/* A float32 array [rows, tail...] written row block by row block, so results
 * of any number of images never have to sit in memory at once. */
typedef struct vitc_array_writer vitc_array_writer;

typedef enum vitc_array_format {
    VITC_ARRAY_AUTO = 0,      /* ".safetensors" (any case) if path ends so, else .npy */
    VITC_ARRAY_NPY,           /* NumPy v1.0, the bytes numpy.save writes       */
    VITC_ARRAY_SAFETENSORS    /* one F32 tensor plus "__metadata__"            */
} vitc_array_format;

/* Starts an array file that appears at path only when committed; until then
 * rows go to a temporary file beside it. A failure or a writer freed without
 * commit never leaves a partial file at path nor touches an existing one.
 * Caller frees *out with vitc_array_writer_free. */
VITC_API vitc_status vitc_array_writer_open(
    const char *path,         /* the file to create or replace                  */
    vitc_array_format format, /* how to write it                                */
    const char *name,         /* tensor name in .safetensors; ignored for .npy  */
    size_t ndim_tail,         /* 0 .. VITC_TENSOR_MAX_DIMS - 1                  */
    const size_t *shape_tail, /* (ndim_tail) the shape of one row               */
    vitc_array_writer **out); /* OUT: the writer                                */

/* Sets a "__metadata__" string entry of a .safetensors file (a key set twice
 * keeps the last value). .npy has no such place: accepted and ignored. Only
 * before the first append. */
VITC_API vitc_status vitc_array_writer_set_metadata(vitc_array_writer *w, const char *key,
                                                    const char *value);

/* Appends n_rows rows: float32 [n_rows, tail...], native byte order (stored
 * little-endian). After a failed append the writer only accepts _free. */
VITC_API vitc_status vitc_array_writer_append(vitc_array_writer *w, const float *rows,
                                              size_t n_rows);

/* Rows appended so far. */
VITC_API size_t vitc_array_writer_rows(const vitc_array_writer *w);

/* Writes the final header (the row count), flushes the data to disk and
 * renames the file into place, atomically replacing any file at path. Zero
 * rows make a valid empty array. Afterwards only _free is accepted. */
VITC_API vitc_status vitc_array_writer_commit(vitc_array_writer *w);

/* Frees the writer; an uncommitted file is discarded. NULL-safe. */
VITC_API void vitc_array_writer_free(vitc_array_writer *w);

/* ---- Hub: models from the Hugging Face hub and its cache ----------------- */

/* Progress of one download: `done` of `total` bytes of `filename` (total is 0
 * when unknown). Called on the downloading thread, often; keep it cheap. */
typedef void (*vitc_hub_progress_fn)(const char *filename, uint64_t done, uint64_t total,
                                     void *user);

/* Where and how to fetch. NULL strings mean the default noted. */
typedef struct vitc_hub_params {
    const char *endpoint;  /* hub URL; NULL: "https://huggingface.co"                */
    const char *token;     /* sent as "Authorization: Bearer" to the endpoint's host  */
    const char *cache_dir; /* cache root; NULL: the rule of vitc_hub_default_params   */
    const char *revision;  /* branch, tag or commit; NULL: "main"                     */
    bool offline;          /* never touch the network, only the cache                 */
    vitc_hub_progress_fn progress; /* NULL: no reports                                */
    void *progress_user;
} vitc_hub_params;

/* Parameters from the environment, as huggingface_hub reads it: endpoint =
 * $HF_ENDPOINT, token = $HF_TOKEN (else $HUGGING_FACE_HUB_TOKEN), offline =
 * $HF_HUB_OFFLINE (or $TRANSFORMERS_OFFLINE) is 1/ON/YES/TRUE. cache_dir stays
 * NULL and is resolved at each call: $HF_HUB_CACHE, else
 * $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
 * else ~/.cache/huggingface/hub (a leading ~ is expanded; empty variables
 * count as unset). The strings point into the environment: valid until it
 * changes. */
VITC_API vitc_hub_params vitc_hub_default_params(void);

/* Downloads config.json, preprocessor_config.json (when the repo has one)
 * and model.safetensors of repo_id ("ORG/NAME") at params->revision into the
 * cache, in huggingface_hub's layout, so either finds what the other fetched:
 *   models--ORG--NAME/blobs/ETAG        the files (sha256 for LFS files)
 *   models--ORG--NAME/snapshots/COMMIT/ relative symlinks to ../../blobs/ETAG
 *   models--ORG--NAME/refs/REVISION     the commit the revision resolved to
 * Files already in blobs/ are not fetched again. A download goes to
 * blobs/ETAG.incomplete, resumes with a Range request after an interrupted
 * transfer (also one left by an earlier run), is checked for size and, for
 * LFS files, sha256, then renamed into place. *dir_out: the snapshot
 * directory, ready for vitc_model_load; free it with vitc_string_free.
 * Thread-safe; the first call initialises libcurl once for the process
 * (curl_global_init under pthread_once), so a program that also uses
 * libcurl should initialise it itself before starting threads. */
VITC_API vitc_status vitc_hub_download(const char *repo_id, const vitc_hub_params *params,
                                       char **dir_out);

/* Turns a MODEL argument into a model directory. An existing directory, or
 * anything that is not shaped like a repo id "ORG/NAME", is returned as
 * given. A repo id is looked up in the cache (refs/REVISION -> snapshot with
 * config.json and model.safetensors) and downloaded with vitc_hub_download
 * when missing, unless params->offline; online, a snapshot that lacks a
 * preprocessor_config.json not recorded as absent (.no_exist) is completed
 * too. params may be NULL for vitc_hub_default_params(). Free *dir_out with
 * vitc_string_free. */
VITC_API vitc_status vitc_hub_resolve(const char *model, const vitc_hub_params *params,
                                      char **dir_out);

/* Frees a string returned by the library. Accepts NULL. */
VITC_API void vitc_string_free(char *s);

#ifdef __cplusplus
}
#endif

#endif /* VITC_H */
