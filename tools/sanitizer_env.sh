# Sourced by the scripts that run sanitized binaries: reports abort with a stack trace
# symbolized to file:line, and leaks inside Mesa's lavapipe/LLVM (not ours, not fixable
# here) are suppressed by tests/sanitizer/lsan.supp.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/sanitizer/lsan.supp:print_suppressions=0}"
export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || true)}"
# The Vulkan loader unloads lavapipe when a process's last instance is destroyed; a leak inside
# the driver is then reported from "<unknown module>" and escapes lsan.supp's libvulkan_lvp.so
# line (seen with Mesa 22.3.6-1+deb12u2 in test_serve_http, whose server creates and destroys
# instances). Loaded for the process's life, the driver keeps its frames named.
for lvp in /usr/lib/*/libvulkan_lvp.so; do
  if [[ -f $lvp ]]; then
    export LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$lvp"
    break
  fi
done
