/* SPDX-License-Identifier: MIT
 *
 * webp.c — WebP to RGB with libwebp, on the path Pillow 9.4 takes when
 * its _webp module has HAVE_WEBPANIM (Debian's does): WebPAnimDecoderNew with
 * default options (MODE_RGBA, not premultiplied; no threads) over the whole
 * file, for still files as for animations; the first WebPAnimDecoderGetNext
 * gives the canvas (zero outside the first frame) and convert("RGB") drops
 * alpha. Pillow's WebPGetFeatures sniffing only names the mode (RGBX without
 * alpha, RGBA with): the bytes are the same. The legacy WebPDecode path is
 * taken only without libwebpdemux. EXIF orientation from the EXIF chunk
 * (info["exif"]); XMP is not consulted, as Pillow keeps it as info["xmp"].
 * I/O leaf.
 */
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "base/err.h"
#include "image/decoders.h"

/* Pillow's _anim_decoder_new and WebPAnimDecoder.get_chunk("EXIF"). The
 * legacy WebPDecode path (no demux library) would give the same pixels
 * for still images but is not what Pillow runs. */
vitc_status vitc_webp_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out)
{
    WebPBitstreamFeatures features;
    WebPAnimDecoder *dec = NULL;
    WebPAnimInfo info;
    WebPChunkIterator chunk;
    WebPData src = {data, size};
    vitc_image *img = NULL;
    uint8_t *rgba = NULL;
    int timestamp = 0, orientation = 0;
    vitc_status st;

    /* Geometry first, before libwebp allocates the canvas: for an extended
     * (VP8X) file this is the canvas size the animation decoder uses. */
    if (WebPGetFeatures(data, size, &features) != VP8_STATUS_OK) {
        return vitc_error(VITC_ERR_FORMAT, "%s: corrupt or truncated WebP header", name);
    }
    st = vitc_image_check_size(name, features.width, features.height);
    if (st != VITC_OK) {
        return st;
    }
    dec = WebPAnimDecoderNew(&src, NULL);
    if (!dec || !WebPAnimDecoderGetInfo(dec, &info)) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: corrupt or truncated WebP file", name);
        goto done;
    }
    st = vitc_image_check_size(name, info.canvas_width, info.canvas_height);
    if (st != VITC_OK) {
        goto done;
    }
    if (!WebPAnimDecoderGetNext(dec, &rgba, &timestamp)) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: corrupt or truncated WebP frame", name);
        goto done;
    }
    st = vitc_image_alloc(name, info.canvas_width, info.canvas_height, &img);
    if (st != VITC_OK) {
        goto done;
    }
    for (uint32_t y = 0; y < info.canvas_height; y++) {
        const uint8_t *s = rgba + (size_t)y * info.canvas_width * 4;
        uint8_t *d = img->data + (size_t)y * img->stride;
        for (uint32_t x = 0; x < info.canvas_width; x++, s += 4, d += 3) {
            memcpy(d, s, 3);
        }
    }
    if (WebPDemuxGetChunk(WebPAnimDecoderGetDemuxer(dec), "EXIF", 1, &chunk)) {
        orientation = vitc_exif_orientation(chunk.chunk.bytes, chunk.chunk.size);
        WebPDemuxReleaseChunkIterator(&chunk);
    }
    st = vitc_exif_apply(name, orientation, &img);
done:
    WebPAnimDecoderDelete(dec);
    if (st != VITC_OK) {
        vitc_image_free(img);
        return st;
    }
    *out = img;
    return VITC_OK;
}
