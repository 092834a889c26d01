// ADASPRING_VECTOR_CLONES: on x86-64 with GCC, compiles a function once per vector width and
// picks the copy for the CPU at load time (Debian's baseline is SSE2; this machine has
// AVX-512). For the weight-preparation loops of an evolution, which oneDNN does not cover.
#ifndef ADASPRING_ENGINE_SRC_EXEC_VECTOR_CLONES_H_
#define ADASPRING_ENGINE_SRC_EXEC_VECTOR_CLONES_H_

// Not under ThreadSanitizer: the clones are picked by an ifunc resolver that runs while the
// dynamic loader relocates the program, before TSan's runtime is up, and the TSan build of the
// daemon tests crashed there (segfault at start). ASan builds keep the clones (tested in CI).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define ADASPRING_VECTOR_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define ADASPRING_VECTOR_CLONES
#endif

#if defined(__clang__)
// clang reports an `omp simd` loop it cannot vectorise (the float max reduction of the int8
// quantiser, at the SSE2 baseline without -ffast-math) as a warning, an error under -Werror,
// which broke the clang (fuzzing) build; the loop stays a correct scalar loop there.
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

#endif  // ADASPRING_ENGINE_SRC_EXEC_VECTOR_CLONES_H_
