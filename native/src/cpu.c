/* CPU feature detection for runtime dispatch.
 *
 * The addon is compiled for baseline x86-64 (no -march=native) so that one binary runs on any
 * machine; the fast kernels carry function-level __attribute__((target(...))) and are only called
 * when this file says the CPU *and the operating system* support them. An instruction set is usable
 * when:
 *   - CPUID reports it (leaf 1: AVX, FMA, OSXSAVE; leaf 7: AVX2, AVX-512 F/DQ/BW/VL), and
 *   - the OS saves the registers on context switches: XGETBV(0) must have the SSE and AVX state bits
 *     (0x6) for AVX/AVX2, and additionally the opmask and ZMM state bits (0xE0) for AVX-512.
 *     A CPU can report AVX-512 while a hypervisor or kernel has it disabled in XCR0.
 * TSLM_ISA=scalar|avx2|avx512 caps the choice (never raises it above what the CPU supports), which
 * is how the tests exercise every code path on one machine. tslm_set_isa does the same at runtime.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "tslm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
  unsigned int eax, edx;
  /* xgetbv with ecx = 0; written as raw bytes-free inline asm so no -mxsave flag is needed. */
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((unsigned long long)edx << 32) | eax;
}

/* The best ISA this CPU + OS can run, ignoring any cap. */
static int detect_hw(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return TSLM_ISA_SCALAR;
  const int has_fma = (ecx >> 12) & 1;
  const int has_osxsave = (ecx >> 27) & 1;
  const int has_avx = (ecx >> 28) & 1;
  if (!has_osxsave || !has_avx) return TSLM_ISA_SCALAR;
  const unsigned long long xcr0 = read_xcr0();
  if ((xcr0 & 0x6) != 0x6) return TSLM_ISA_SCALAR; /* XMM + YMM state not enabled by the OS */
  if (__get_cpuid_max(0, NULL) < 7) return TSLM_ISA_SCALAR;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const int has_avx2 = (ebx >> 5) & 1;
  const int has_avx512f = (ebx >> 16) & 1;
  const int has_avx512dq = (ebx >> 17) & 1;
  const int has_avx512bw = (ebx >> 30) & 1;
  const int has_avx512vl = (ebx >> 31) & 1;
  if (!has_avx2 || !has_fma) return TSLM_ISA_SCALAR;
  /* opmask (bit 5), upper halves of ZMM0-15 (bit 6), ZMM16-31 (bit 7) */
  const int os_avx512 = (xcr0 & 0xE0) == 0xE0;
  if (has_avx512f && has_avx512dq && has_avx512bw && has_avx512vl && os_avx512) return TSLM_ISA_AVX512;
  return TSLM_ISA_AVX2;
}
#else
static int detect_hw(void) { return TSLM_ISA_SCALAR; }
#endif

static int hw_isa = -1;      /* what the machine supports, detected once */
static int current_isa = -1; /* hw_isa capped by TSLM_ISA or tslm_set_isa */

static int parse_isa(const char *s) {
  if (!s || !*s) return -1;
  if (!strcmp(s, "scalar")) return TSLM_ISA_SCALAR;
  if (!strcmp(s, "avx2")) return TSLM_ISA_AVX2;
  if (!strcmp(s, "avx512")) return TSLM_ISA_AVX512;
  return -2;
}

int tslm_isa_parse(const char *name) { return parse_isa(name); }

int tslm_isa(void) {
  /* Benign race: concurrent first calls compute the same values. */
  if (current_isa >= 0) return current_isa;
  int hw = detect_hw();
  int isa = hw;
  const char *env = getenv("TSLM_ISA");
  int cap = parse_isa(env);
  if (cap == -2) {
    fprintf(stderr, "tslm: ignoring TSLM_ISA=%s (expected scalar, avx2 or avx512)\n", env);
  } else if (cap >= 0 && cap < isa) {
    isa = cap;
  }
  hw_isa = hw;
  current_isa = isa;
  return isa;
}

int tslm_set_isa(int isa) {
  tslm_isa();
  if (isa < TSLM_ISA_SCALAR) isa = TSLM_ISA_SCALAR;
  current_isa = isa < hw_isa ? isa : hw_isa;
  return current_isa;
}

const char *tslm_isa_name(int isa) {
  switch (isa) {
    case TSLM_ISA_AVX512: return "avx512";
    case TSLM_ISA_AVX2: return "avx2";
    default: return "scalar";
  }
}
