#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_shard.sh — `vitc embed --shard K/N`: for several N, the N shards' arrays concatenated in K
# order equal the unsharded run bit for bit and their OUT.paths.txt concatenated equal its list
# (inputs from a recursive tree, a .npy of pixel_values and a --list file, so the order is the
# full collection order); empty shards when N exceeds the inputs; --skip-errors per shard; and
# the refusals of malformed K/N. Arrays are compared with numpy. Runs from the repository root.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
MODEL=tests/data/models/tiny-in21k
IMAGES=tests/data/preprocess/images
cli_setup shard "numpy"

# concat_same DESC WHOLE.npy PART.npy...: the parts concatenated have WHOLE's shape, dtype and
# bits.
concat_same() {
    local desc=$1
    shift
    check "$desc" "$@" <<'EOF'
import sys
import numpy as np
whole = np.load(sys.argv[1])
parts = [np.load(p) for p in sys.argv[2:]]
cat = np.concatenate(parts)
print(f"{len(parts)} parts of {[len(p) for p in parts]} rows = {whole.shape}")
sys.exit(0 if cat.shape == whole.shape and cat.dtype == whole.dtype and
         cat.tobytes() == whole.tobytes() else 1)
EOF
}

# ---- the collection: a tree, a .npy of 3 rows, a list file --------------------------------------

tree=$tmp/tree
mkdir -p "$tree/a" "$tree/b/c"
cp "$IMAGES"/*.jpg "$tree/a/"
cp "$IMAGES"/*.png "$tree/b/c/"
cp "$IMAGES/rgb.png" "$tree/top.png"
printf '%s\n' "$IMAGES/gray.jpg" "" "$IMAGES/rgba.png" >"$tmp/list.txt"
inputs=("$tree" "$MODEL/inputs.pixel_values.npy" --recursive --list "$tmp/list.txt")

expect_rc "unsharded run" 0 "$VITC" embed "$MODEL" "${inputs[@]}" -o "$tmp/all.npy" --batch 4
m=$(wc -l <"$tmp/all.npy.paths.txt")
if [ "$m" -eq 23 ]; then
    ok "the collection has $m inputs"
else
    bad "the collection has $m inputs, want 23"
fi

for n in 1 2 3 5 23; do
    parts=()
    : >"$tmp/paths-$n.txt"
    all_ok=1
    for k in $(seq 1 "$n"); do
        run "$VITC" embed "$MODEL" "${inputs[@]}" -o "$tmp/s$k-$n.npy" --shard "$k/$n" --batch 3
        if [ "$rc" -ne 0 ]; then
            all_ok=0
            bad "--shard $k/$n: exit $rc: $(head -c 300 "$tmp/err")"
        fi
        parts+=("$tmp/s$k-$n.npy")
        cat "$tmp/s$k-$n.npy.paths.txt" >>"$tmp/paths-$n.txt"
    done
    [ "$all_ok" -eq 1 ] && ok "--shard K/$n: all $n shards run"
    concat_same "--shard K/$n: the shards concatenated equal the unsharded run" "$tmp/all.npy" \
        "${parts[@]}"
    if cmp -s "$tmp/paths-$n.txt" "$tmp/all.npy.paths.txt"; then
        ok "--shard K/$n: the shards' paths.txt concatenated equal the unsharded list"
    else
        bad "--shard K/$n: paths differ: $(diff "$tmp/paths-$n.txt" "$tmp/all.npy.paths.txt" |
            head -n 4 | tr '\n' '|')"
    fi
done

# Slices are floor(M*(K-1)/N)+1 .. floor(M*K/N): 23 inputs in 5 give 4, 5, 4, 5, 5.
run "$VITC" embed "$MODEL" "${inputs[@]}" -o "$tmp/s2.npy" --shard 2/5
expect_err "--shard 2/5 says which inputs it ran" "(shard 2/5: inputs 5 to 9 of 23)"
counts=""
for k in 1 2 3 4 5; do counts+="$(wc -l <"$tmp/s$k-5.npy.paths.txt") "; done
if [ "$counts" = "4 5 4 5 5 " ]; then
    ok "--shard K/5 slice sizes: $counts"
else
    bad "--shard K/5 slice sizes: $counts, want 4 5 4 5 5"
fi

# ---- more shards than inputs: empty shards write an array with no rows --------------------------

expect_rc "--shard 2/3 of one input" 0 "$VITC" embed "$MODEL" "$IMAGES/rgb.png" \
    -o "$tmp/empty.npy" --shard 2/3
expect_err "an empty shard says so" "(shard 2/3: none of the 1 inputs)"
check "an empty shard is [0, 32] with an empty paths.txt" "$tmp/empty.npy" \
    "$tmp/empty.npy.paths.txt" <<'EOF'
import os, sys
import numpy as np
a = np.load(sys.argv[1])
print(f"{a.shape} {a.dtype}, paths.txt {os.path.getsize(sys.argv[2])} bytes")
sys.exit(0 if a.shape == (0, 32) and a.dtype == np.float32 and
         os.path.getsize(sys.argv[2]) == 0 else 1)
EOF
expect_rc "--shard 3/3 of one input" 0 "$VITC" embed "$MODEL" "$IMAGES/rgb.png" \
    -o "$tmp/one.npy" --shard 3/3
concat_same "the one input is in the last shard" "$tmp/one.npy" "$tmp/empty.npy" "$tmp/one.npy"

# ---- --skip-errors: each shard lists its own skips ---------------------------------------------

bad_tree=$tmp/bad
mkdir -p "$bad_tree"
cp "$IMAGES/rgb.png" "$bad_tree/a.png"
printf 'not a png' >"$bad_tree/b.png"
cp "$IMAGES/gray.jpg" "$bad_tree/c.jpg"
cp "$IMAGES/rgba.png" "$bad_tree/d.png"
expect_rc "--shard 1/2 --skip-errors" 0 "$VITC" embed "$MODEL" "$bad_tree" -o "$tmp/k1.npy" \
    --shard 1/2 --skip-errors
expect_rc "--shard 2/2 --skip-errors" 0 "$VITC" embed "$MODEL" "$bad_tree" -o "$tmp/k2.npy" \
    --shard 2/2 --skip-errors
if grep -q "b.png" "$tmp/k1.npy.errors.txt" 2>/dev/null && [ ! -e "$tmp/k2.npy.errors.txt" ] &&
    [ "$(cat "$tmp/k1.npy.paths.txt" "$tmp/k2.npy.paths.txt" | wc -l)" -eq 3 ]; then
    ok "--skip-errors: the bad input is listed by its shard only; 3 rows in all"
else
    bad "--skip-errors per shard: $(cat "$tmp"/k*.npy.errors.txt 2>&1 | head -c 300)"
fi
expect_rc "--shard 1/2 without --skip-errors fails on the bad input" 1 "$VITC" embed "$MODEL" \
    "$bad_tree" -o "$tmp/k3.npy" --shard 1/2
expect_err "the failure names the input" "b.png"
expect_rc "--shard 2/2 without --skip-errors has no bad input" 0 "$VITC" embed "$MODEL" \
    "$bad_tree" -o "$tmp/k4.npy" --shard 2/2

# ---- malformed K/N ---------------------------------------------------------------------------

for spec in 0/3 4/3 3 3/ /3 a/b 1/0 -1/3 1/3x " 1/3" 1/1000001 99999999999999999999/1; do
    expect_rc "--shard '$spec' is refused" 2 "$VITC" embed "$MODEL" "$IMAGES/rgb.png" \
        -o "$tmp/x.npy" --shard "$spec"
done
expect_err "the refusal says what K/N must be" "is not K/N with 1 <= K <= N"
if [ ! -e "$tmp/x.npy" ]; then
    ok "no output after a refused --shard"
else
    bad "a refused --shard wrote $tmp/x.npy"
fi
finish
