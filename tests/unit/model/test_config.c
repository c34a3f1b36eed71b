/* SPDX-License-Identifier: MIT
 *
 * test_config.c — config.json parsing (src/model/config.c): the fixture configs,
 * ViTConfig's defaults, the accepted spellings (list sizes, activation
 * names, id2label) and one refusal per kind of bad value, each with the
 * status and a message naming the file and the field.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "model/config.h"
#include "test.h"

static vitc_status parse(const char *text, struct vitc_config *cfg)
{
    return vitc_config_parse("m/config.json", text, strlen(text), cfg);
}

/* Expects text to be refused with status and a message naming the file and
 * containing phrase; the output struct must be left untouched. */
static void expect_bad(const char *text, vitc_status status, const char *phrase)
{
    struct vitc_config cfg;
    memset(&cfg, 0xab, sizeof cfg);
    vitc_status s = parse(text, &cfg);
    const char *msg = vitc_last_error();
    CHECKF(s == status, "%s: got %s, want %s (%s)", text, vitc_status_str(s),
           vitc_status_str(status), msg);
    CHECKF(strstr(msg, "m/config.json") && strstr(msg, phrase), "%s: message lacks '%s': %s", text,
           phrase, msg);
    CHECK(cfg.hidden_size == (int)0xabababab);
}

/* ---- valid configs ---- */

static void test_fixture_in21k(void)
{
    struct vitc_config cfg;
    vitc_status s = vitc_config_load("tests/data/models/tiny-in21k/config.json", &cfg);
    CHECKF(s == VITC_OK, "%s", vitc_last_error());
    if (s != VITC_OK) {
        return;
    }
    CHECK(strcmp(cfg.architecture, "ViTModel") == 0);
    CHECK(cfg.hidden_size == 32 && cfg.num_hidden_layers == 2 && cfg.num_attention_heads == 4);
    CHECK(cfg.intermediate_size == 64 && cfg.image_size == 32 && cfg.patch_size == 8);
    CHECK(cfg.num_channels == 3 && cfg.layer_norm_eps == 1e-12 && cfg.qkv_bias);
    CHECK(cfg.hidden_act == VITC_ACT_GELU && strcmp(cfg.hidden_act_name, "gelu") == 0);
    CHECK(cfg.num_labels == 2 && cfg.id2label == NULL);
    vitc_config_free(&cfg);
}

static void test_fixture_variant(void)
{
    struct vitc_config cfg;
    vitc_status s = vitc_config_load("tests/data/models/tiny-variant/config.json", &cfg);
    CHECKF(s == VITC_OK, "%s", vitc_last_error());
    if (s != VITC_OK) {
        return;
    }
    CHECK(cfg.hidden_size == 48 && cfg.num_attention_heads == 3 && cfg.intermediate_size == 100);
    CHECK(cfg.image_size == 48 && cfg.patch_size == 16);
    CHECK(!cfg.qkv_bias);
    CHECK(cfg.layer_norm_eps == 1e-6);
    CHECK(cfg.hidden_act == VITC_ACT_GELU_TANH && strcmp(cfg.hidden_act_name, "gelu_new") == 0);
    vitc_config_free(&cfg);
}

static void test_fixture_classifier(void)
{
    static const char *const names[5] = {"tabby cat", "golden retriever", "circuit board",
                                         "sunflower", "container ship"};
    struct vitc_config cfg;
    vitc_status s = vitc_config_load("tests/data/models/tiny-classifier/config.json", &cfg);
    CHECKF(s == VITC_OK, "%s", vitc_last_error());
    if (s != VITC_OK) {
        return;
    }
    CHECK(strcmp(cfg.architecture, "ViTForImageClassification") == 0);
    CHECK(cfg.num_hidden_layers == 3 && cfg.num_labels == 5 && cfg.id2label != NULL);
    for (int i = 0; cfg.id2label && i < 5; i++) {
        CHECKF(cfg.id2label[i] && strcmp(cfg.id2label[i], names[i]) == 0, "label %d", i);
    }
    vitc_config_free(&cfg);
    CHECK(cfg.id2label == NULL);
    vitc_config_free(&cfg);
    vitc_config_free(NULL);
}

static void test_defaults(void)
{
    struct vitc_config cfg;
    CHECK(parse("{}", &cfg) == VITC_OK);
    CHECK(cfg.architecture[0] == '\0');
    CHECK(cfg.hidden_size == 768 && cfg.num_hidden_layers == 12 && cfg.num_attention_heads == 12);
    CHECK(cfg.intermediate_size == 3072 && cfg.image_size == 224 && cfg.patch_size == 16);
    CHECK(cfg.num_channels == 3 && cfg.layer_norm_eps == 1e-12 && cfg.qkv_bias);
    CHECK(cfg.hidden_act == VITC_ACT_GELU && strcmp(cfg.hidden_act_name, "gelu") == 0);
    CHECK(cfg.num_labels == 2 && cfg.id2label == NULL);
    vitc_config_free(&cfg);

    /* Unknown keys and null architectures are ignored. */
    CHECK(parse("{\"foo\": [1, {\"x\": null}], \"architectures\": null, \"encoder_stride\": 16,"
                " \"model_type\": \"vit\", \"pooler_act\": \"tanh\"}",
                &cfg) == VITC_OK);
    CHECK(cfg.hidden_size == 768 && cfg.architecture[0] == '\0');
    vitc_config_free(&cfg);
}

static void test_accepted_forms(void)
{
    struct vitc_config cfg;
    CHECK(parse("{\"image_size\": [384, 384], \"patch_size\": [32, 32]}", &cfg) == VITC_OK);
    CHECK(cfg.image_size == 384 && cfg.patch_size == 32);
    CHECK(parse("{\"layer_norm_eps\": 1}", &cfg) == VITC_OK && cfg.layer_norm_eps == 1.0);
    CHECK(parse("{\"num_labels\": 1000}", &cfg) == VITC_OK && cfg.num_labels == 1000);
    CHECK(cfg.id2label == NULL);
    CHECK(parse("{\"num_labels\": 7, \"id2label\": {\"1\": \"b\", \"0\": \"a\"}}", &cfg) ==
          VITC_OK);
    CHECK(cfg.num_labels == 2 && strcmp(cfg.id2label[0], "a") == 0 &&
          strcmp(cfg.id2label[1], "b") == 0);
    vitc_config_free(&cfg);
    /* Python's int() reads "01" as 1. */
    CHECK(parse("{\"id2label\": {\"01\": \"b\", \"0\": \"a\"}}", &cfg) == VITC_OK);
    CHECK(cfg.num_labels == 2 && strcmp(cfg.id2label[1], "b") == 0);
    vitc_config_free(&cfg);

    char arch[200];
    snprintf(arch, sizeof arch, "{\"architectures\": [\"%0150d\", \"B\"]}", 0);
    CHECK(parse(arch, &cfg) == VITC_OK);
    CHECK(strlen(cfg.architecture) == sizeof cfg.architecture - 1);
}

static void test_activations(void)
{
    static const struct {
        const char *name;
        enum vitc_act act;
    } acts[] = {
        {"gelu", VITC_ACT_GELU},           {"gelu_python", VITC_ACT_GELU},
        {"gelu_new", VITC_ACT_GELU_TANH},  {"gelu_pytorch_tanh", VITC_ACT_GELU_TANH},
        {"gelu_fast", VITC_ACT_GELU_TANH}, {"quick_gelu", VITC_ACT_QUICK_GELU},
        {"relu", VITC_ACT_RELU},           {"silu", VITC_ACT_SILU},
        {"swish", VITC_ACT_SILU},          {"linear", VITC_ACT_NONE},
        {"tanh", VITC_ACT_TANH},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        char text[100];
        struct vitc_config cfg;
        snprintf(text, sizeof text, "{\"hidden_act\": \"%s\"}", acts[i].name);
        CHECKF(parse(text, &cfg) == VITC_OK, "%s", acts[i].name);
        CHECKF(cfg.hidden_act == acts[i].act && strcmp(cfg.hidden_act_name, acts[i].name) == 0,
               "%s", acts[i].name);
    }
}

/* ---- refusals ---- */

static void test_bad_json(void)
{
    expect_bad("{\"hidden_size\": ", VITC_ERR_FORMAT, "not valid JSON");
    expect_bad("", VITC_ERR_FORMAT, "not valid JSON");
    expect_bad("[1]", VITC_ERR_FORMAT, "not a JSON object");
    expect_bad("{\"a\": 1, \"a\": 2}", VITC_ERR_FORMAT, "duplicate");
}

static void test_bad_types(void)
{
    expect_bad("{\"hidden_size\": \"768\"}", VITC_ERR_FORMAT,
               "'hidden_size' must be a positive integer");
    expect_bad("{\"hidden_size\": 768.0}", VITC_ERR_FORMAT,
               "'hidden_size' must be a positive integer");
    expect_bad("{\"num_hidden_layers\": true}", VITC_ERR_FORMAT,
               "'num_hidden_layers' must be a positive integer");
    expect_bad("{\"num_attention_heads\": null}", VITC_ERR_FORMAT,
               "'num_attention_heads' must be a positive integer");
    expect_bad("{\"qkv_bias\": 1}", VITC_ERR_FORMAT, "'qkv_bias' must be true or false");
    expect_bad("{\"layer_norm_eps\": \"1e-12\"}", VITC_ERR_FORMAT,
               "'layer_norm_eps' must be a positive number");
    expect_bad("{\"hidden_act\": 3}", VITC_ERR_FORMAT, "'hidden_act' must be a string");
    expect_bad("{\"architectures\": \"ViTModel\"}", VITC_ERR_FORMAT, "'architectures' must be");
    expect_bad("{\"architectures\": [1]}", VITC_ERR_FORMAT, "'architectures' must be");
    expect_bad("{\"model_type\": 1}", VITC_ERR_FORMAT, "'model_type' must be a string");
    expect_bad("{\"image_size\": [224]}", VITC_ERR_FORMAT, "'image_size' must be");
    expect_bad("{\"image_size\": [224, \"224\"]}", VITC_ERR_FORMAT, "'image_size' must be");
    expect_bad("{\"num_labels\": -1}", VITC_ERR_FORMAT, "'num_labels' must be");
}

static void test_bad_values(void)
{
    expect_bad("{\"hidden_size\": 0}", VITC_ERR_FORMAT, "'hidden_size' must be a positive");
    expect_bad("{\"intermediate_size\": -3072}", VITC_ERR_FORMAT,
               "'intermediate_size' must be a positive");
    expect_bad("{\"patch_size\": 0}", VITC_ERR_FORMAT, "'patch_size' must be a positive");
    expect_bad("{\"num_channels\": -1}", VITC_ERR_FORMAT, "'num_channels' must be a positive");
    expect_bad("{\"hidden_size\": 1000000}", VITC_ERR_FORMAT, "'hidden_size' is 1000000, over");
    expect_bad("{\"num_hidden_layers\": 100000}", VITC_ERR_FORMAT, "'num_hidden_layers' is");
    expect_bad("{\"image_size\": 1048576}", VITC_ERR_FORMAT, "'image_size' is 1048576, over");
    expect_bad("{\"image_size\": 99999999999999999999}", VITC_ERR_FORMAT, "not valid JSON");
    expect_bad("{\"num_channels\": 9223372036854775807}", VITC_ERR_FORMAT, "'num_channels' is");
    expect_bad("{\"hidden_size\": 768, \"num_attention_heads\": 7}", VITC_ERR_FORMAT,
               "hidden_size 768 is not a multiple of num_attention_heads 7");
    expect_bad("{\"image_size\": 224, \"patch_size\": 15}", VITC_ERR_FORMAT,
               "image_size 224 is not a multiple of patch_size 15");
    expect_bad("{\"image_size\": 16, \"patch_size\": 32}", VITC_ERR_FORMAT,
               "image_size 16 is not a multiple of patch_size 32");
    expect_bad("{\"layer_norm_eps\": 0}", VITC_ERR_FORMAT, "'layer_norm_eps' must be");
    expect_bad("{\"layer_norm_eps\": -1e-6}", VITC_ERR_FORMAT, "'layer_norm_eps' must be");
    expect_bad("{\"layer_norm_eps\": 1e999}", VITC_ERR_FORMAT, "not valid JSON");
}

static void test_unsupported(void)
{
    expect_bad("{\"hidden_act\": \"mish\"}", VITC_ERR_UNSUPPORTED, "hidden_act 'mish'");
    expect_bad("{\"hidden_act\": \"GELU\"}", VITC_ERR_UNSUPPORTED, "hidden_act 'GELU'");
    expect_bad("{\"model_type\": \"beit\"}", VITC_ERR_UNSUPPORTED, "model_type 'beit'");
    expect_bad("{\"image_size\": [224, 160]}", VITC_ERR_UNSUPPORTED,
               "non-square 'image_size' [224, 160]");
    expect_bad("{\"patch_size\": [16, 8]}", VITC_ERR_UNSUPPORTED, "non-square 'patch_size'");
    expect_bad("{\"pooler_act\": \"relu\"}", VITC_ERR_UNSUPPORTED, "'pooler_act'");
    expect_bad("{\"pooler_output_size\": 512}", VITC_ERR_UNSUPPORTED, "'pooler_output_size'");
}

static void test_bad_labels(void)
{
    expect_bad("{\"id2label\": [\"a\", \"b\"]}", VITC_ERR_FORMAT, "'id2label' must be an object");
    expect_bad("{\"id2label\": {\"0\": \"a\", \"x\": \"b\"}}", VITC_ERR_FORMAT,
               "id2label key 'x' is not a label number");
    expect_bad("{\"id2label\": {\"0\": \"a\", \"-1\": \"b\"}}", VITC_ERR_FORMAT,
               "id2label key '-1'");
    expect_bad("{\"id2label\": {\"0\": \"a\", \" 1\": \"b\"}}", VITC_ERR_FORMAT,
               "id2label key ' 1'");
    expect_bad("{\"id2label\": {\"\": \"a\"}}", VITC_ERR_FORMAT, "id2label key ''");
    expect_bad("{\"id2label\": {\"0\": \"a\", \"2\": \"c\"}}", VITC_ERR_FORMAT,
               "id2label key '2' is out of range");
    expect_bad("{\"id2label\": {\"1\": \"a\", \"01\": \"b\"}}", VITC_ERR_FORMAT,
               "two keys for label 1");
    expect_bad("{\"id2label\": {\"0\": \"a\", \"1\": 2}}", VITC_ERR_FORMAT,
               "id2label['1'] must be a string");
    expect_bad("{\"id2label\": {\"99999999999999999999\": \"a\"}}", VITC_ERR_FORMAT,
               "is not a label number");
}

static void test_load_errors(void)
{
    struct vitc_config cfg;
    CHECK(vitc_config_load("tests/data/models/none/config.json", &cfg) == VITC_ERR_IO);
    CHECK(strstr(vitc_last_error(), "tests/data/models/none/config.json") != NULL);
    CHECK(vitc_config_load("tests/data/models", &cfg) == VITC_ERR_IO);
    CHECK(vitc_config_load(NULL, &cfg) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_config_parse("x", NULL, 1, &cfg) == VITC_ERR_INVALID_ARG);
}

/* Every allocation of the loader can fail without a leak. */
static void test_alloc_failures(void)
{
    const char *path = "tests/data/models/tiny-classifier/config.json";
    for (size_t k = 1; k < 100; k++) {
        struct vitc_config cfg;
        vitc_test_fail_alloc_after(k);
        vitc_status s = vitc_config_load(path, &cfg);
        vitc_test_fail_alloc_after(0);
        if (s == VITC_OK) {
            CHECK(k > 6 && cfg.num_labels == 5 && strcmp(cfg.id2label[4], "container ship") == 0);
            vitc_config_free(&cfg);
            return;
        }
        CHECKF(s == VITC_ERR_NOMEM, "k=%zu: %s", k, vitc_last_error());
    }
    CHECKF(0, "vitc_config_load never succeeded");
}

int main(void)
{
    RUN(test_fixture_in21k);
    RUN(test_fixture_variant);
    RUN(test_fixture_classifier);
    RUN(test_defaults);
    RUN(test_accepted_forms);
    RUN(test_activations);
    RUN(test_bad_json);
    RUN(test_bad_types);
    RUN(test_bad_values);
    RUN(test_unsupported);
    RUN(test_bad_labels);
    RUN(test_load_errors);
    RUN(test_alloc_failures);
    return TEST_REPORT();
}
