/* SPDX-License-Identifier: MIT
 *
 * imagenet_labels.h — the 1000 ImageNet-1k class names exactly as the
 * id2label of the published google/vit-base-patch16-224 config.json spells
 * them. Pure data leaf used by the classifier presets; no lookup logic.
 */
#ifndef VITC_IMAGENET_LABELS_H
#define VITC_IMAGENET_LABELS_H

#define VITC_IMAGENET_N_LABELS 1000

/* id -> label. Two ids share a name, as published: 134 and 517 are both
 * "crane" (the bird and the machine), so the file's label2id has 999 keys
 * and maps "crane" to 517 (the last id wins). Every label is printable ASCII
 * without '"' or '\\', so it needs no JSON escaping. */
extern const char *const vitc_imagenet_labels[VITC_IMAGENET_N_LABELS];

#endif /* VITC_IMAGENET_LABELS_H */
