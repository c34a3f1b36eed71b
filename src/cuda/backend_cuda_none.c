/* SPDX-License-Identifier: MIT
 *
 * backend_cuda_none.c — the CUDA backend of a build without the CUDA
 * toolkit (or with VITC_CUDA=0): there is none, and asking for it says so.
 * The Makefile builds this file instead of backend_cuda*.cu.
 */
#include "base/err.h"
#include "cuda/backend_cuda.h"

vitc_status vitc_backend_cuda_new(const struct vitc_model *m, int device, size_t max_batch,
                                  struct vitc_be **out)
{
    return vitc_error(VITC_ERR_UNSUPPORTED, "this build has no CUDA backend");
}
