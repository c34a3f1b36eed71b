/* SPDX-License-Identifier: MIT
 *
 * jpeg.c — JPEG to RGB with libjpeg(-turbo) at its defaults (ISLOW
 * IDCT, fancy upsampling), as Pillow's JpegImagePlugin + JpegDecode.c and
 * convert("RGB") produce it: gray copied to R=G=B, 4-channel files read as
 * Adobe-inverted CMYK and converted with Pillow's integer formula, EXIF
 * orientation applied. I/O leaf; errors longjmp back and become statuses.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#include "base/err.h"
#include "image/decoders.h"

struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
};

static void on_error(j_common_ptr cinfo)
{
    struct jpeg_err *e = (struct jpeg_err *)cinfo->err;
    longjmp(e->jump, 1);
}

/* Warnings are silent, as Pillow's decoder leaves them. */
static void on_message(j_common_ptr cinfo, int level)
{
    (void)cinfo;
    (void)level;
}

/* ---- a suspending memory source ----
 * Pillow feeds libjpeg through a suspending source and, once the file is
 * exhausted while the decoder still wants data, raises "image file is
 * truncated" (LOAD_TRUNCATED_IMAGES is off). Whether a file missing its
 * tail decodes therefore depends on what libjpeg asks for, so the same
 * suspending source is used here rather than libjpeg's jpeg_mem_src, which
 * would pad with a fake EOI. */

static void src_init(j_decompress_ptr cinfo)
{
    (void)cinfo;
}

static boolean src_fill(j_decompress_ptr cinfo)
{
    (void)cinfo;
    return FALSE; /* all data is already in the buffer: suspend */
}

static void src_skip(j_decompress_ptr cinfo, long n)
{
    struct jpeg_source_mgr *src = cinfo->src;
    if (n <= 0) {
        return;
    }
    if ((unsigned long)n > src->bytes_in_buffer) {
        n = (long)src->bytes_in_buffer; /* the next fill suspends */
    }
    src->next_input_byte += n;
    src->bytes_in_buffer -= (size_t)n;
}

static void src_term(j_decompress_ptr cinfo)
{
    (void)cinfo;
}

/* The first APP1 "Exif\0" segment, as JpegImagePlugin keeps the first. */
static int find_orientation(j_decompress_ptr cinfo)
{
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0", 5) == 0) {
            return vitc_exif_orientation(m->data, m->data_length);
        }
    }
    return 0;
}

/* Everything setjmp must survive lives here, in the caller's frame, so no
 * local of the function holding setjmp changes after it. */
struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err err;
    struct jpeg_source_mgr src;
    const char *name;
    int created;
    int orientation; /* EXIF, read before finish frees the saved markers */
    vitc_image *img;
    uint8_t *row; /* (width * num_components) */
};

static vitc_status truncated(const struct jpeg_job *j)
{
    return vitc_error(VITC_ERR_FORMAT, "%s: truncated (image data ends early)", j->name);
}

static vitc_status run(struct jpeg_job *j, const uint8_t *data, size_t size)
{
    struct jpeg_decompress_struct *cinfo = &j->cinfo;
    vitc_status st;

    cinfo->err = jpeg_std_error(&j->err.pub);
    j->err.pub.error_exit = on_error;
    j->err.pub.emit_message = on_message;
    if (setjmp(j->err.jump)) {
        char msg[JMSG_LENGTH_MAX];
        (*j->err.pub.format_message)((j_common_ptr)cinfo, msg);
        return vitc_error(VITC_ERR_FORMAT, "%s: %s", j->name, msg);
    }
    j->created = 1;
    jpeg_create_decompress(cinfo);
    j->src.next_input_byte = data;
    j->src.bytes_in_buffer = size;
    j->src.init_source = src_init;
    j->src.fill_input_buffer = src_fill;
    j->src.skip_input_data = src_skip;
    j->src.resync_to_restart = jpeg_resync_to_restart;
    j->src.term_source = src_term;
    cinfo->src = &j->src;
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
    if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
        return truncated(j);
    }
    j->orientation = find_orientation(cinfo);

    st = vitc_image_check_size(j->name, cinfo->image_width, cinfo->image_height);
    if (st != VITC_OK) {
        return st;
    }
    /* JpegImagePlugin maps 1/3/4 components to L/RGB/CMYK and refuses
     * the rest; libjpeg picks the source colour space (YCbCr, RGB, YCCK,
     * ...) from the markers as Pillow lets it. */
    switch (cinfo->num_components) {
    case 1:
        cinfo->out_color_space = JCS_GRAYSCALE;
        break;
    case 3:
        cinfo->out_color_space = JCS_RGB;
        break;
    case 4:
        cinfo->out_color_space = JCS_CMYK;
        break;
    default:
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: cannot handle %d-component JPEG images",
                          j->name, cinfo->num_components);
    }
    st = vitc_image_alloc(j->name, cinfo->image_width, cinfo->image_height, &j->img);
    if (st != VITC_OK) {
        return st;
    }
    j->row = vitc_mem_alloc((size_t)cinfo->image_width * (size_t)cinfo->num_components);
    if (!j->row) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", j->name);
    }
    /* Multi-scan (progressive) files are absorbed whole here. */
    if (!jpeg_start_decompress(cinfo)) {
        return truncated(j);
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *dst = j->img->data + (size_t)cinfo->output_scanline * j->img->stride;
        const uint8_t *s = j->row;
        JSAMPROW rows[1] = {j->row};
        if (jpeg_read_scanlines(cinfo, rows, 1) != 1) {
            return truncated(j);
        }
        for (JDIMENSION x = 0; x < cinfo->output_width; x++, dst += 3) {
            if (cinfo->num_components == 1) {
                dst[0] = dst[1] = dst[2] = *s++;
            } else if (cinfo->num_components == 3) {
                memcpy(dst, s, 3);
                s += 3;
            } else {
                /* Adobe files store CMYK inverted; Pillow's "CMYK;I"
                 * unpacker flips every sample back before converting. */
                uint8_t k = 255 - s[3];
                dst[0] = vitc_cmyk_channel(255 - s[0], k);
                dst[1] = vitc_cmyk_channel(255 - s[1], k);
                dst[2] = vitc_cmyk_channel(255 - s[2], k);
                s += 4;
            }
        }
    }
    /* JpegDecode.c finishes without checking for suspension: a file whose
     * pixels are complete but whose EOI is missing is accepted. */
    jpeg_finish_decompress(cinfo);
    return vitc_exif_apply(j->name, j->orientation, &j->img);
}

vitc_status vitc_jpeg_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out)
{
    struct jpeg_job j;
    vitc_status st;

    memset(&j, 0, sizeof j);
    j.name = name;
    st = run(&j, data, size);
    if (j.created) {
        jpeg_destroy_decompress(&j.cinfo);
    }
    vitc_mem_free(j.row);
    if (st != VITC_OK) {
        vitc_image_free(j.img);
        return st;
    }
    *out = j.img;
    return VITC_OK;
}
