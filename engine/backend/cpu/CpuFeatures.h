// CpuFeatures: which SIMD level this CPU and OS can run (CPUID + XGETBV), and a cap
// on the level the kernels may use. The cap starts from the LATHE_ISA environment
// variable (scalar|avx2|avx512) and tests and benchmarks may lower it to exercise
// every path on one machine. Asking for more than the CPU has is clamped, never trusted.
#pragma once

#include <optional>
#include <string_view>

namespace lathe::cpu {

// Ordered: each level includes the ones below it. Avx512Vnni adds the 8-bit dot product
// (vpdpbusd/vpdpwssd) that the int8-activation matmul uses; the f32 kernels are the
// same as at Avx512.
enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Avx512Vnni = 3 };

// Highest level the hardware and OS support: Avx2 needs AVX2+FMA+F16C with YMM state
// enabled; Avx512 needs F/BW/VL/DQ with ZMM and opmask state enabled; Avx512Vnni needs
// that and AVX512_VNNI.
Isa detectedIsa();

// The level the kernels use now: min(detectedIsa(), cap).
Isa activeIsa();

// Sets the cap (process-wide; meant for tests and benchmarks). Safe to call from any
// thread, but a matmul already running keeps the level it started with.
void setIsaCap(Isa cap);
Isa isaCap();

const char *isaName(Isa isa);                              // "scalar", "avx2", "avx512", "avx512vnni"
std::optional<Isa> isaFromName(std::string_view name);     // case-sensitive, as above

} // namespace lathe::cpu
