/* SPDX-License-Identifier: MIT
 *
 * backend_cuda.h — making the CUDA backend (backend_cuda.cu), which
 * implements graph/backend.h's ops on one device; backend_cuda_none.c
 * stands in for it in builds without the CUDA toolkit.
 */
#ifndef VITC_BACKEND_CUDA_H
#define VITC_BACKEND_CUDA_H

#include <stddef.h>

#include "graph/backend.h"
#include "model/model.h"
#include "vitc.h"

/* The CUDA backend on device `device` for model m, with room for
 * max_batch images: uploads m's weights in the model's precision (FP32,
 * TF32, BF16 or FP16; INT8 fails with VITC_ERR_UNSUPPORTED), creates the
 * ctx's stream and staging buffers. In a build without the CUDA toolkit
 * (backend_cuda_none.c) it always fails with VITC_ERR_UNSUPPORTED. */
vitc_status vitc_backend_cuda_new(const struct vitc_model *m, int device, size_t max_batch,
                                  struct vitc_be **out);

#endif /* VITC_BACKEND_CUDA_H */
