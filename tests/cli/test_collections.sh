#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_collections.sh — `vitc embed` on collections: --recursive directory walks (order, hidden
# entries, symlink loops), --list files and stdin, the OUT.paths.txt sidecar, --skip-errors and
# OUT.errors.txt, .safetensors output, hundreds of images through the decoding workers in input
# order, and the progress bar (only on a terminal, never with --quiet). Arrays are checked with
# numpy; .safetensors by parsing its 8-byte length and JSON header. Files a directory holds that
# are not images vitc reads: counted in a warning, named with --verbose or in OUT.errors.txt.
# Runs from the repository root.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
MODEL=tests/data/models/tiny-in21k
IMAGES=tests/data/preprocess/images
cli_setup coll "numpy, PIL"

# same DESC A.npy B.npy: equal shape, dtype and bits.
same() {
    check "$1" "$2" "$3" <<'EOF'
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
print(f"shapes {a.shape} and {b.shape}")
sys.exit(0 if a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b) else 1)
EOF
}

# same_text DESC FILE_A FILE_B
same_text() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        bad "$1: $(diff "$2" "$3" | head -n 6 | tr '\n' '|')"
    fi
}

# ---- a directory tree: --recursive against the explicit sorted list ----------------------------

tree=$tmp/tree
mkdir -p "$tree/b/deeper" "$tree/a.d" "$tree/.hidden_dir" "$tree/empty"
cp "$IMAGES/rgb.png" "$tree/z.png"
cp "$IMAGES/gray.jpg" "$tree/a.jpg"
cp "$IMAGES/photo_progressive.jpg" "$tree/b/B.JPEG"
cp "$IMAGES/palette_trns.png" "$tree/b/deeper/c.png"
cp "$IMAGES/rgba.png" "$tree/a.d/x.png"
cp "$IMAGES/upscale_50x37.png" "$tree/.hidden.png"
cp "$IMAGES/rgb.png" "$tree/.hidden_dir/h.png"
echo "not an image" >"$tree/b/notes.txt"
ln -s .. "$tree/b/loop"          # a directory cycle: never entered
ln -s ../a.jpg "$tree/b/link.jpg" # a link to a file counts as the file
# The order the walk must give: every image file or file link by full path in byte order.
(cd "$tmp" && find tree -name '.*' -prune -o \( -type f -o -type l \) -print |
    grep -iE '\.(png|jpe?g)$' | LC_ALL=C sort) >"$tmp/tree.list"
sed -i "s|^|$tmp/|" "$tmp/tree.list"
[ "$(wc -l <"$tmp/tree.list")" -eq 6 ] && ok "fixture tree has 6 images" ||
    bad "fixture tree: $(cat "$tmp/tree.list")"

expect_rc "embed --recursive" 0 "$VITC" embed "$MODEL" "$tree" --recursive -o "$tmp/rec.npy"
mapfile -t files <"$tmp/tree.list"
expect_rc "embed the same files by name" 0 "$VITC" embed "$MODEL" "${files[@]}" -o "$tmp/named.npy"
same "--recursive = the files sorted by path in byte order" "$tmp/rec.npy" "$tmp/named.npy"
same_text "OUT.paths.txt lists the walk's files in row order" "$tmp/rec.npy.paths.txt" \
    "$tmp/tree.list"
same_text "OUT.paths.txt of named files is their order" "$tmp/named.npy.paths.txt" "$tmp/tree.list"
expect_rc "without --recursive only the top level" 0 "$VITC" embed "$MODEL" "$tree" \
    -o "$tmp/top.npy"
printf '%s\n' "$tree/a.jpg" "$tree/z.png" | cmp -s - "$tmp/top.npy.paths.txt" &&
    ok "top level: a.jpg, z.png" || bad "top level: $(cat "$tmp/top.npy.paths.txt")"
expect_rc "a tree without images" 1 "$VITC" embed "$MODEL" "$tree/empty" --recursive \
    -o "$tmp/none.npy"

# ---- --list FILE and stdin ---------------------------------------------------------------------

{
    printf '%s\n' "${files[@]:0:3}"
    printf '\n   \n'
    printf '%s\r\n' "${files[@]:3}"
} >"$tmp/list.txt"
expect_rc "embed --list FILE (blank lines, CRLF)" 0 "$VITC" embed "$MODEL" --list "$tmp/list.txt" \
    -o "$tmp/list.npy"
same "--list rows = named rows" "$tmp/list.npy" "$tmp/named.npy"
run "$VITC" embed "$MODEL" --list - -o "$tmp/stdin.npy" <"$tmp/tree.list"
[ "$rc" -eq 0 ] && ok "embed --list - (stdin)" || bad "--list -: exit $rc: $(cat "$tmp/err")"
same "stdin rows = named rows" "$tmp/stdin.npy" "$tmp/named.npy"
expect_rc "INPUT arguments come before the list" 0 "$VITC" embed "$MODEL" "$IMAGES/gray.png" \
    --list "$tmp/tree.list" -o "$tmp/both.npy"
{ echo "$IMAGES/gray.png"; cat "$tmp/tree.list"; } | cmp -s - "$tmp/both.npy.paths.txt" &&
    ok "paths: argument first, then the list" || bad "paths: $(cat "$tmp/both.npy.paths.txt")"
: >"$tmp/empty.txt"
expect_rc "an empty list" 1 "$VITC" embed "$MODEL" --list "$tmp/empty.txt" -o "$tmp/e.npy"
expect_rc "a missing list file" 1 "$VITC" embed "$MODEL" --list "$tmp/no-such.txt" -o "$tmp/e.npy"
grep -q "no-such.txt" "$tmp/err" && ok "message names the list" || bad "message: $(cat "$tmp/err")"
expect_rc "no INPUT and no --list" 2 "$VITC" embed "$MODEL" -o "$tmp/e.npy"
expect_rc "--format bogus" 2 "$VITC" embed "$MODEL" "$tree" --format csv -o "$tmp/e.npy"
expect_rc "--workers -1" 2 "$VITC" embed "$MODEL" "$tree" --workers -1 -o "$tmp/e.npy"
[ ! -e "$tmp/e.npy" ] && ok "failed runs wrote no output" || bad "e.npy exists"

# ---- batched .npy rows in the sidecar ----------------------------------------------------------

PV=$MODEL/inputs.pixel_values.npy
expect_rc "image + batched .npy" 0 "$VITC" embed "$MODEL" "$IMAGES/rgb.png" "$PV" \
    -o "$tmp/mixed.npy"
printf '%s\n' "$IMAGES/rgb.png" "$PV[0]" "$PV[1]" "$PV[2]" | cmp -s - "$tmp/mixed.npy.paths.txt" &&
    ok "sidecar names .npy rows PATH[i]" || bad "sidecar: $(cat "$tmp/mixed.npy.paths.txt")"

# ---- --skip-errors -----------------------------------------------------------------------------

echo "garbage, not a JPEG" >"$tmp/corrupt.jpg"
head -c 300 "$IMAGES/photo_baseline_exif.jpg" >"$tmp/cut.jpg"
with_bad=("${files[0]}" "${files[1]}" "$tmp/corrupt.jpg" "${files[2]}" "$tmp/missing.png"
    "${files[3]}")
good=("${files[0]}" "${files[1]}" "${files[2]}" "${files[3]}")
expect_rc "without --skip-errors a corrupt image fails" 1 "$VITC" embed "$MODEL" "${with_bad[@]}" \
    -o "$tmp/skip.npy"
grep -q "missing.png" "$tmp/err" && ok "a missing input is refused before any work" ||
    bad "message: $(cat "$tmp/err")"
expect_rc "without --skip-errors (only the corrupt image)" 1 "$VITC" embed "$MODEL" \
    "${good[@]:0:2}" "$tmp/corrupt.jpg" "${good[@]:2}" -o "$tmp/skip.npy"
grep -q "corrupt.jpg" "$tmp/err" && ok "the failure names the image" ||
    bad "message: $(cat "$tmp/err")"
if [ -z "$(ls "$tmp" | grep '^skip\.npy')" ]; then
    ok "a failed run leaves no OUT, no sidecars, no temporaries"
else
    bad "left behind: $(ls "$tmp" | grep '^skip\.npy' | tr '\n' ' ')"
fi
echo "stale" >"$tmp/skip.npy.errors.txt"
expect_rc "--skip-errors with a corrupt image in the middle" 0 "$VITC" embed "$MODEL" \
    "${with_bad[@]}" "$tmp/cut.jpg" --skip-errors -o "$tmp/skip.npy"
grep -q "warning: skipped 3 of 7" "$tmp/err" && ok "stderr warns: skipped 3 of 7" ||
    bad "stderr: $(cat "$tmp/err")"
grep -q "corrupt.jpg" "$tmp/err" && ok "stderr names the skipped image" ||
    bad "stderr: $(cat "$tmp/err")"
expect_rc "the good images alone" 0 "$VITC" embed "$MODEL" "${good[@]}" -o "$tmp/good.npy"
same "rows skip the unreadable inputs" "$tmp/skip.npy" "$tmp/good.npy"
same_text "sidecar skips them too" "$tmp/skip.npy.paths.txt" "$tmp/good.npy.paths.txt"
cut -f1 "$tmp/skip.npy.errors.txt" >"$tmp/err_paths"
printf '%s\n' "$tmp/corrupt.jpg" "$tmp/missing.png" "$tmp/cut.jpg" | cmp -s - "$tmp/err_paths" &&
    ok "OUT.errors.txt lists them in input order" || bad "errors: $(cat "$tmp/skip.npy.errors.txt")"
if [ "$(awk -F'\t' 'NF == 2 && $2 != ""' "$tmp/skip.npy.errors.txt" | wc -l)" -eq 3 ]; then
    ok "each error line is PATH<TAB>reason"
else
    bad "error lines: $(cat -A "$tmp/skip.npy.errors.txt")"
fi
[ ! -e "$tmp/good.npy.errors.txt" ] && ok "no errors file when nothing was skipped" ||
    bad "good.npy.errors.txt exists"
expect_rc "rerun without skips" 0 "$VITC" embed "$MODEL" "${good[@]}" --skip-errors \
    -o "$tmp/skip.npy"
[ ! -e "$tmp/skip.npy.errors.txt" ] && ok "a clean run removes the stale errors file" ||
    bad "stale skip.npy.errors.txt kept"
expect_rc "--skip-errors with nothing readable" 1 "$VITC" embed "$MODEL" "$tmp/corrupt.jpg" \
    "$tmp/missing.png" --skip-errors -o "$tmp/nothing.npy"
if [ ! -e "$tmp/nothing.npy" ] && [ ! -e "$tmp/nothing.npy.paths.txt" ] &&
    [ "$(wc -l <"$tmp/nothing.npy.errors.txt")" -eq 2 ]; then
    ok "nothing readable: no OUT, the errors file says why"
else
    bad "nothing readable: $(ls "$tmp" | grep nothing | tr '\n' ' ')"
fi

# ---- files a directory holds that are not images vitc reads ------------------------------------

mixed=$tmp/mixed_dir
mkdir -p "$mixed/sub"
cp "$IMAGES/rgb.png" "$mixed/a.png"
cp tests/data/formats/lossy.webp "$mixed/b.WEBP"
echo "not an image" >"$mixed/notes.txt"
cp "$IMAGES/gray.jpg" "$mixed/photo.heic" # by name: a format vitc does not read
echo "hidden" >"$mixed/.hidden.txt"
cp "$IMAGES/rgb.png" "$mixed/sub/deeper.png"
expect_rc "a directory with other files" 0 "$VITC" embed "$MODEL" "$mixed" -o "$tmp/mixed_dir.npy"
printf '%s\n' "$mixed/a.png" "$mixed/b.WEBP" | cmp -s - "$tmp/mixed_dir.npy.paths.txt" &&
    ok "its JPEG/PNG/WebP files are embedded" || bad "paths: $(cat "$tmp/mixed_dir.npy.paths.txt")"
grep -q "warning: $mixed: skipped 2 files" "$tmp/err" && ok "a warning counts the 2 skipped files" ||
    bad "stderr: $(cat "$tmp/err")"
grep -q -- "--verbose names them" "$tmp/err" && ! grep -q "notes.txt" "$tmp/err" &&
    ok "without --verbose the warning says how to name them" || bad "stderr: $(cat "$tmp/err")"
expect_rc "--verbose" 0 "$VITC" embed "$MODEL" "$mixed" --verbose -o "$tmp/mixed_dir.npy"
grep -q "skipped $mixed/notes.txt: not an image file" "$tmp/err" &&
    grep -q "skipped $mixed/photo.heic" "$tmp/err" && ! grep -q "hidden" "$tmp/err" &&
    ok "--verbose names each skipped file, not hidden ones" || bad "stderr: $(cat "$tmp/err")"
expect_rc "--skip-errors" 0 "$VITC" embed "$MODEL" "$mixed" --skip-errors -o "$tmp/mixed_dir.npy"
printf '%s\n' "$mixed/notes.txt" "$mixed/photo.heic" |
    cmp -s - <(cut -f1 "$tmp/mixed_dir.npy.errors.txt") &&
    ok "--skip-errors lists them in OUT.errors.txt" ||
    bad "errors: $(cat "$tmp/mixed_dir.npy.errors.txt" 2>&1)"
expect_rc "the images by name" 0 "$VITC" embed "$MODEL" "$mixed/a.png" "$mixed/b.WEBP" \
    -o "$tmp/mixed_named.npy"
same "rows are those of the images alone" "$tmp/mixed_dir.npy" "$tmp/mixed_named.npy"
rm "$mixed/a.png" "$mixed/b.WEBP"
expect_rc "a directory of only other files" 1 "$VITC" embed "$MODEL" "$mixed" -o "$tmp/none.npy"
grep -q "no image files" "$tmp/err" && grep -q "skipped 2 files" "$tmp/err" &&
    ok "refused, saying what it skipped" || bad "stderr: $(cat "$tmp/err")"

# ---- .safetensors ------------------------------------------------------------------------------

expect_rc "embed to .safetensors" 0 "$VITC" embed "$MODEL" "${files[@]}" -o "$tmp/emb.safetensors"
expect_rc "--format safetensors whatever the name" 0 "$VITC" embed "$MODEL" "${files[@]}" \
    --format safetensors --output last_hidden_state -o "$tmp/emb.bin"
expect_rc "last_hidden_state as .npy" 0 "$VITC" embed "$MODEL" "${files[@]}" \
    --output last_hidden_state -o "$tmp/lhs.npy"
check ".safetensors: 8-byte length, JSON header, F32 data equal to the .npy" \
    "$tmp/emb.safetensors" "$tmp/named.npy" pooler_output "$tmp/emb.bin" "$tmp/lhs.npy" \
    last_hidden_state "$MODEL" <<'EOF'
import json, struct, sys
import numpy as np
model = sys.argv[7]
for path, ref, name in (sys.argv[1:4], sys.argv[4:7]):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0, "data not 8-byte aligned"
    text = raw[8:8 + n].decode("utf-8")
    assert text.rstrip(" ").endswith("}") and text.startswith("{"), "header framing"
    hdr = json.loads(text)
    assert hdr["__metadata__"] == {"format": "pt", "model": model, "output": name}, hdr
    t = hdr[name]
    want = np.load(ref)
    assert set(hdr) == {"__metadata__", name}, hdr.keys()
    assert t["dtype"] == "F32" and t["shape"] == list(want.shape), t
    b, e = t["data_offsets"]
    assert b == 0 and e == len(raw) - 8 - n == want.nbytes, (b, e)
    got = np.frombuffer(raw[8 + n:], dtype="<f4").reshape(t["shape"])
    assert np.array_equal(got, want), "data differ"
print("pooler_output and last_hidden_state")
EOF
expect_rc "--format npy with a .safetensors name" 0 "$VITC" embed "$MODEL" "${files[@]}" \
    --format npy -o "$tmp/really.safetensors"
cp "$tmp/really.safetensors" "$tmp/really.npy"
same "it is a .npy" "$tmp/really.npy" "$tmp/named.npy"

# ---- hundreds of images through the workers ----------------------------------------------------

"$PYTHON" - "$tmp/many" <<'EOF'
import os, sys
import numpy as np
from PIL import Image
root = sys.argv[1]
rng = np.random.default_rng(6)
for i in range(300):
    d = os.path.join(root, f"part{i % 4}", f"sub{i % 3}")
    os.makedirs(d, exist_ok=True)
    w, h = (int(v) for v in rng.integers(6, 48, size=2))
    px = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    ext = "png" if i % 2 else "jpg"
    Image.fromarray(px).save(os.path.join(d, f"img{i:03d}.{ext}"))
EOF
expect_rc "300 images, --workers 2 --batch 3" 0 "$VITC" embed "$MODEL" "$tmp/many" --recursive \
    --workers 2 --batch 3 -o "$tmp/many.npy"
expect_rc "the same in one batch with one worker" 0 "$VITC" embed "$MODEL" "$tmp/many" \
    --recursive --workers 1 --batch 300 -o "$tmp/many_ref.npy"
same "rows identical and in order (streaming = one batch)" "$tmp/many.npy" "$tmp/many_ref.npy"
expect_rc "their pixel_values, --workers 7 --batch 5" 0 "$VITC" embed "$MODEL" "$tmp/many" \
    --recursive --workers 7 --batch 5 --output pixel_values -o "$tmp/many_pv.npy"
expect_rc "embed those pixel_values" 0 "$VITC" embed "$MODEL" "$tmp/many_pv.npy" --batch 64 \
    -o "$tmp/many_from_pv.npy"
same "images = their pixel_values through the model" "$tmp/many.npy" "$tmp/many_from_pv.npy"
(cd "$tmp" && find many -type f | LC_ALL=C sort | sed "s|^|$tmp/|") >"$tmp/many.list"
same_text "300-line sidecar in sorted path order" "$tmp/many.npy.paths.txt" "$tmp/many.list"
check "the rows are the images' own (spot check by index)" "$tmp/many.npy" "$tmp/many.list" \
    "$VITC" "$MODEL" "$tmp" <<'EOF'
import subprocess, sys
import numpy as np
rows, paths, vitc, model, tmp = sys.argv[1:]
got = np.load(rows)
names = open(paths).read().split("\n")[:-1]
for i in (0, 1, 2, 150, 299):
    out = f"{tmp}/one_{i}.npy"
    subprocess.run([vitc, "embed", model, names[i], "-o", out], check=True, capture_output=True)
    assert np.array_equal(np.load(out)[0], got[i]), f"row {i}"
print("rows 0, 1, 2, 150, 299")
EOF

# ---- interruption ------------------------------------------------------------------------------

# SIGTERM once the run has its temporary files (batch 1: it is then still at work): it must
# remove them and write no OUT. Should the run win the race and finish, its output must be whole.
# (SIGTERM, not SIGINT: background jobs of a script start with SIGINT ignored.)
mkdir "$tmp/intr"
"$VITC" embed "$MODEL" "$tmp/many" --recursive --batch 1 --workers 1 -o "$tmp/intr/out.npy" \
    2>"$tmp/intr.err" &
pid=$!
for _ in $(seq 1 3000); do
    ls "$tmp/intr" | grep -q '\.tmp\.' && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
left=$(ls -A "$tmp/intr")
if [ "$rc" -eq 143 ] && [ -z "$left" ]; then
    ok "SIGTERM mid-run: exit 143, temporary files removed, no OUT: $(cat "$tmp/intr.err")"
elif [ "$rc" -eq 0 ] && [ "$left" = "$(printf 'out.npy\nout.npy.paths.txt')" ]; then
    ok "SIGTERM came after the run finished: its output is whole"
else
    bad "SIGTERM mid-run: exit $rc, left: $left, stderr: $(cat "$tmp/intr.err")"
fi

# ---- progress and quiet ------------------------------------------------------------------------

expect_rc "quiet run" 0 "$VITC" embed "$MODEL" "$tree" --recursive --quiet -o "$tmp/q.npy"
# The tree holds one file that is not an image: its warning shows even with --quiet.
skip_line="vitc embed: warning: $tree: skipped 1 file that is not"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^$skip_line" "$tmp/err" && [ ! -s "$tmp/out" ] &&
    ok "--quiet: nothing on stderr or stdout but the skipped-files warning" ||
    bad "--quiet printed: $(cat "$tmp/err")"
expect_rc "run on a pipe" 0 "$VITC" embed "$MODEL" "$tree" --recursive -o "$tmp/p.npy"
if [ "$(wc -l <"$tmp/err")" -eq 2 ] && grep -q "^vitc embed: wrote" "$tmp/err" &&
    ! grep -q "img/s" "$tmp/err" && ! grep -q $'\r' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    ok "on a pipe: the skipped-files warning and the summary line, no bar"
else
    bad "on a pipe: $(cat -A "$tmp/err" | head -n 3)"
fi
if command -v script >/dev/null 2>&1; then
    script -qc "'$VITC' embed '$MODEL' '$tmp/many' --recursive --batch 7 -o '$tmp/tty.npy'" \
        /dev/null </dev/null >"$tmp/tty.log" 2>&1
    if grep -q "img/s" "$tmp/tty.log" && grep -q "100%" "$tmp/tty.log" &&
        grep -q "300/300" "$tmp/tty.log" && grep -q "ETA" "$tmp/tty.log"; then
        ok "on a terminal: a bar with images/s and ETA"
    else
        bad "on a terminal: $(cat -A "$tmp/tty.log" | head -c 400)"
    fi
    same "terminal run gives the same rows" "$tmp/tty.npy" "$tmp/many.npy"
    script -qc "'$VITC' embed '$MODEL' '$tree' --recursive --quiet -o '$tmp/ttyq.npy'" \
        /dev/null </dev/null >"$tmp/ttyq.log" 2>&1
    [ "$(wc -l <"$tmp/ttyq.log")" -eq 1 ] && grep -q "^$skip_line" "$tmp/ttyq.log" &&
        ok "on a terminal with --quiet: only the skipped-files warning" ||
        bad "--quiet on a terminal: $(cat -A "$tmp/ttyq.log" | head -c 300)"
else
    echo "skip progress on a terminal: no 'script' command (bsdutils)"
fi

# ---- help --------------------------------------------------------------------------------------

run "$VITC" embed --help
missing=""
for opt in --recursive --list --skip-errors --quiet --format --workers --verbose; do
    grep -qE -- "(^|[ ,])$opt( |,|$)" "$tmp/out" || missing+=" $opt"
done
[ -z "$missing" ] && ok "embed --help documents the collection options" ||
    bad "embed --help lacks:$missing"
if ls -A "$tmp" | grep -q '\.tmp\.'; then
    bad "temporary files left: $(ls -A "$tmp" | grep '\.tmp\.')"
else
    ok "no temporary files left"
fi

finish
