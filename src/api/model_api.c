/* SPDX-License-Identifier: MIT
 *
 * model_api.c — the public vitc_model calls: argument checks, then the
 * loader (model/load.c) reads the checkpoint and the CPU backend prepares
 * its weights once (cpu/backend_cpu.h). API layer: it joins the two so that
 * neither the loader knows the backend nor the backend the loader.
 */
#include "base/err.h"
#include "cpu/backend_cpu.h"
#include "model/model.h"

vitc_model_params vitc_model_default_params(void)
{
    vitc_model_params p = {.precision = VITC_PRECISION_FP32};
    return p;
}

vitc_status vitc_model_load(const char *dir, const vitc_model_params *params, vitc_model **out)
{
    vitc_model_params p = params ? *params : vitc_model_default_params();
    struct vitc_model *m = NULL;
    vitc_status s;

    if (!dir || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_model_load: NULL %s", !dir ? "dir" : "out");
    }
    if ((unsigned)p.precision > VITC_PRECISION_TF32) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_model_load: unknown precision %d",
                          (int)p.precision);
    }
    if (p.image_size < 0 || p.image_size > 65535) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_model_load: image_size %d is not in 0..65535",
                          p.image_size);
    }
    if (p.image_height < 0 || p.image_height > 65535 || p.image_width < 0 ||
        p.image_width > 65535 || (p.image_height == 0) != (p.image_width == 0)) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "vitc_model_load: image_height x image_width %dx%d: both must be 0, or "
                          "both in 1..65535",
                          p.image_height, p.image_width);
    }
    if ((s = vitc_model_read(dir, &p, &m)) != VITC_OK) {
        return s;
    }
    if ((s = vitc_model_prepare_weights(m)) != VITC_OK) {
        vitc_model_unprepare_weights(m);
        vitc_model_release(m);
        return s;
    }
    *out = m;
    return VITC_OK;
}

void vitc_model_free(vitc_model *model)
{
    if (!model) {
        return;
    }
    vitc_model_unprepare_weights(model);
    vitc_model_release(model);
}

const vitc_model_info *vitc_model_get_info(const vitc_model *model)
{
    return model ? &model->info : NULL;
}

const char *vitc_model_label(const vitc_model *model, int id)
{
    if (!model || id < 0 || id >= model->info.num_labels || !model->cfg.id2label) {
        return NULL;
    }
    return model->cfg.id2label[id];
}
