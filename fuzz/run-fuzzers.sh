#!/usr/bin/env bash
# Builds every fuzz/fuzz_*.cpp target with clang (libFuzzer + ASan + UBSan) and runs each
# for SECONDS (default 60), seeded from the shared fixtures. Exits non-zero if a build
# fails or any target finds a crash, leak, sanitizer report or timeout; the reproducer is
# left in $LATHE_FUZZ_BUILD/artifacts/.
#   fuzz/run-fuzzers.sh [SECONDS]
# Environment: LATHE_FUZZ_BUILD (build dir, default build-fuzz), LATHE_FIXTURES (default
# <repo>/../shared/fixtures), LATHE_FUZZ_JOBS (build parallelism, default 2),
# LATHE_FUZZ_EXCLUDE (regex of engine sources to leave out, see CMakeLists.txt).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LATHE_FUZZ_BUILD:-build-fuzz}"
[[ "$build" = /* ]] || build="$root/$build"
fixtures="${LATHE_FIXTURES:-$root/../shared/fixtures}"

mkdir -p "$build"
CC="${CC:-clang}" CXX="${CXX:-clang++}" cmake -S "$root/fuzz" -B "$build" -G Ninja \
    -DLATHE_FUZZ_EXCLUDE="${LATHE_FUZZ_EXCLUDE:-}" >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; echo "fuzz: configure failed" >&2; exit 2; }
cmake --build "$build" -j "${LATHE_FUZZ_JOBS:-2}" || { echo "fuzz: build failed" >&2; exit 2; }

# Seed files per target: small real files of the format the target parses.
seeds() {
    case "$1" in
    fuzz_gguf)
        find "$fixtures/golden" -path '*/models/*.gguf' -size -1024k ;;
    fuzz_safetensors)
        find "$fixtures/golden" -name '*.safetensors' -size -16384k ;;
    fuzz_tokenizer_json | fuzz_tokenizer*)
        find "$fixtures/tokenizers" -name 'tokenizer.json' -size -16384k ;;
    fuzz_dataset)
        find "$fixtures/datasets" -type f \( -name '*.json' -o -name '*.jsonl' -o -name '*.txt' \) ;;
    *) ;;
    esac
}

# Bytes of each seed to keep (0: all). The dataset files are hundreds of KB: their heads
# hold every layout, and small inputs keep the runs fast (libFuzzer's -max_len follows
# the largest seed).
seed_bytes() {
    case "$1" in
    fuzz_dataset) echo 8192 ;;
    *) echo 0 ;;
    esac
}

mkdir -p "$build/artifacts"
failed=()
for exe in "$build"/fuzz_*; do
    [[ -x "$exe" && -f "$exe" ]] || continue
    name="$(basename "$exe")"
    corpus="$build/corpus/$name"
    mkdir -p "$corpus"
    keep="$(seed_bytes "$name")"
    while IFS= read -r f; do
        [[ -n "$f" ]] || continue
        if ((keep > 0)); then
            head -c "$keep" "$f" >"$corpus/seed-$(basename "$f")"
        else
            cp -f "$f" "$corpus/seed-$(basename "$f")"
        fi
    done < <(seeds "$name" 2>/dev/null || true)
    dict=()
    [[ -f "$root/fuzz/$name.dict" ]] && dict=(-dict="$root/fuzz/$name.dict")
    echo "== $name: ${seconds}s, $(ls "$corpus" | wc -l) corpus files"
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a huge allocation from a
    # small input is a bug (sizes must be validated first).
    if ! "$exe" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$build/artifacts/$name-" -print_final_stats=1 >"$build/$name.log" 2>&1; then
        tail -n 60 "$build/$name.log"
        failed+=("$name")
    else
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$build/$name.log" || true
    fi
done

if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]} (reproducers in $build/artifacts)" >&2
    exit 1
fi
echo "fuzz: all targets passed"
