/* SPDX-License-Identifier: MIT
 *
 * fuzz_safetensors.c — libFuzzer target for the safetensors parser: the
 * 8-byte length, the JSON header and the tensor table checked against the
 * data section. Accepted files must describe tensors that lie inside the
 * buffer; every tensor byte is read so ASan sees any out-of-bounds view.
 */
#include "fuzz.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vitc_safetensors *st = NULL;
    vitc_status s = vitc_st_parse("fuzz.safetensors", data, size, &st);
    if (s != VITC_OK) {
        fuzz_check_failure(s);
        FUZZ_REQUIRE(st == NULL);
        return 0;
    }
    unsigned sum = 0;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const struct vitc_st_tensor *t = &st->tensors[i];
        FUZZ_REQUIRE(t->data >= data && t->n_bytes <= size &&
                     (size_t)(t->data - data) <= size - t->n_bytes);
        FUZZ_REQUIRE(vitc_st_find(st, t->name) == t);
        for (size_t j = 0; j < t->n_bytes; j++) {
            sum += t->data[j];
        }
        sum += vitc_st_dtype_bits(t->dtype) + (unsigned)strlen(vitc_st_dtype_name(t->dtype));
    }
    for (size_t i = 0; i < st->n_meta; i++) {
        FUZZ_REQUIRE(vitc_st_metadata(st, st->meta_keys[i]) != NULL);
        sum += (unsigned)strlen(st->meta_values[i]);
    }
    vitc_st_close(st);
    fuzz_consume(sum);
    return 0;
}
