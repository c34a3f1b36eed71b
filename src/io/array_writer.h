/* SPDX-License-Identifier: MIT
 *
 * array_writer.h — internal pieces of the streaming array writer
 * (vitc_array_writer_*, array_writer.c) that live with their file format:
 * the .npy header comes from npy.c so that both writers produce numpy's bytes.
 * I/O leaf; the public contract is in vitc.h.
 */
#ifndef VITC_ARRAY_WRITER_H
#define VITC_ARRAY_WRITER_H

#include <stddef.h>

/* Formats the v1.0 .npy header (magic and length included) of a little-endian
 * float32 C-order array of shape[0..ndim) into buf (VITC_NPY_HEADER_MAX
 * bytes), exactly as numpy.save does; returns its length, a multiple of 64.
 * The length is the same whatever shape[0] is, so a header reserved for 0
 * rows can be rewritten in place for the final count. */
size_t vitc_npy_format_header(char *buf, size_t ndim, const size_t *shape);

#endif /* VITC_ARRAY_WRITER_H */
