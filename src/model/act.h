/* SPDX-License-Identifier: MIT
 *
 * act.h — the MLP activations a ViT config.json can name (hidden_act), as
 * transformers' ACT2FN defines them. Shared by the config parser (names)
 * and the kernels (math); nothing else lives here.
 */
#ifndef VITC_ACT_H
#define VITC_ACT_H

enum vitc_act {
    VITC_ACT_NONE = 0,          /* identity ("linear")                        */
    VITC_ACT_GELU,              /* "gelu", "gelu_python": 0.5x(1+erf(x/√2))    */
    VITC_ACT_GELU_TANH,         /* "gelu_new", "gelu_pytorch_tanh", "gelu_fast"*/
    VITC_ACT_QUICK_GELU,        /* "quick_gelu": x*sigmoid(1.702x)             */
    VITC_ACT_RELU,              /* "relu"                                      */
    VITC_ACT_SILU,              /* "silu", "swish": x*sigmoid(x)               */
    VITC_ACT_TANH               /* "tanh" (also the pooler's activation)       */
};

#endif /* VITC_ACT_H */
