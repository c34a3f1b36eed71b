/* SPDX-License-Identifier: MIT
 *
 * fuzz_config.c — libFuzzer target for the config.json parser: arbitrary
 * bytes as the file text. Accepted configs must hold the invariants the
 * model loader relies on (positive sizes, a label table of num_labels).
 */
#include "fuzz.h"
#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vitc_config cfg;
    memset(&cfg, 0, sizeof cfg);
    vitc_status s = vitc_config_parse("fuzz/config.json", (const char *)data, size, &cfg);
    if (s != VITC_OK) {
        fuzz_check_failure(s);
        return 0;
    }
    FUZZ_REQUIRE(cfg.hidden_size > 0 && cfg.num_hidden_layers > 0);
    FUZZ_REQUIRE(cfg.num_attention_heads > 0 && cfg.intermediate_size > 0);
    FUZZ_REQUIRE(cfg.image_size > 0 && cfg.patch_size > 0 && cfg.num_channels > 0);
    FUZZ_REQUIRE(cfg.num_labels >= 0);
    FUZZ_REQUIRE(memchr(cfg.architecture, '\0', sizeof cfg.architecture) != NULL);
    FUZZ_REQUIRE(memchr(cfg.hidden_act_name, '\0', sizeof cfg.hidden_act_name) != NULL);
    size_t total = 0;
    for (int i = 0; cfg.id2label && i < cfg.num_labels; i++) {
        total += cfg.id2label[i] ? strlen(cfg.id2label[i]) : 0;
    }
    vitc_config_free(&cfg);
    fuzz_consume(total);
    return 0;
}
