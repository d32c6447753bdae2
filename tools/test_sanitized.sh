#!/usr/bin/env bash
# CI's sanitizer step (after the normal build and suite, tools/test.sh): builds a subset of the
# tests and every fuzz target with Clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (tools/build_sanitized.sh), runs those tests, and runs each fuzz target over its committed
# corpus and then fuzzes it for STAGEGATE_FUZZ_SECONDS.
#
# Why a subset: a sanitized build of everything costs ~43 CPU-minutes here (measured with
# `time`, 2 cores), which would take CI past 30 minutes. The subset is the suites whose code
# reads what other people hand us and drives no Vulkan device (INI, checkpoints and configs,
# tokenizer files and encode/decode, the SQLite store, corpus indexes and corpus readers,
# prompt and document files, plans, policies, API keys, HTTP request bodies, zero-shot task
# files, sample text written into the release report), where a memory
# error would come from hostile input; and one that does drive lavapipe, the HTTP server's
# (test_serve_http: many threads, and requests from the network). The fuzz targets for plans, policies and detector files link the engine library, so
# it is built sanitized anyway; these suites only add their test files. The suites that
# drive lavapipe spend most of their time in Mesa, which is not instrumented; they pass under
# the sanitizers too (run the whole suite with `ctest --test-dir build-asan -LE fuzz` after
# tools/build_sanitized.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
suites=(test_common test_model test_tokenizer test_db test_corpus_index test_detector_seam
  test_repetition test_audit test_release_policy test_serve_keys test_completion_request
  test_serve_http test_capability test_report test_logit_summary)
fuzz=()
for d in tests/fuzz/corpus/*/; do fuzz+=("fuzz_$(basename "$d")"); done
bash tools/build_sanitized.sh "${suites[@]}" "${fuzz[@]}"
source tools/sanitizer_env.sh
labels=$(IFS='|'; echo "${suites[*]}")
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 900 -L "^(${labels}|fuzz)\$"
