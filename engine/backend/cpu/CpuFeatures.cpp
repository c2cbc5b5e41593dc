// CpuFeatures: CPUID/XGETBV probing and the LATHE_ISA cap.
#include "backend/cpu/CpuFeatures.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define LATHE_X86 1
#endif

namespace lathe::cpu {

namespace {

#ifdef LATHE_X86
uint64_t xgetbv0()
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return uint64_t(edx) << 32 | eax;
}

Isa probe()
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return Isa::Scalar;
    const bool osxsave = c & (1u << 27), fma = c & (1u << 12), f16c = c & (1u << 29), avx = c & (1u << 28);
    if (!(osxsave && avx && fma && f16c))
        return Isa::Scalar;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) // SSE and YMM state saved by the OS
        return Isa::Scalar;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return Isa::Scalar;
    if (!(b & (1u << 5))) // AVX2
        return Isa::Scalar;
    const bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) && (b & (1u << 31)); // F DQ BW VL
    if (avx512 && (xcr0 & 0xe6) == 0xe6) // opmask, ZMM_Hi256, Hi16_ZMM state
        return (c & (1u << 11)) ? Isa::Avx512Vnni : Isa::Avx512; // ECX bit 11: AVX512_VNNI
    return Isa::Avx2;
}
#else
Isa probe() { return Isa::Scalar; }
#endif

int capFromEnvironment()
{
    if (const char *env = std::getenv("LATHE_ISA"); env && *env)
        if (auto isa = isaFromName(env))
            return int(*isa);
    return int(Isa::Avx512Vnni);
}

std::atomic<int> &capSlot()
{
    static std::atomic<int> cap{capFromEnvironment()};
    return cap;
}

} // namespace

Isa detectedIsa()
{
    static const Isa isa = probe();
    return isa;
}

Isa activeIsa()
{
    return Isa(std::min(int(detectedIsa()), capSlot().load(std::memory_order_relaxed)));
}

void setIsaCap(Isa cap)
{
    capSlot().store(int(cap), std::memory_order_relaxed);
}

Isa isaCap()
{
    return Isa(capSlot().load(std::memory_order_relaxed));
}

const char *isaName(Isa isa)
{
    switch (isa) {
    case Isa::Avx512Vnni:
        return "avx512vnni";
    case Isa::Avx512:
        return "avx512";
    case Isa::Avx2:
        return "avx2";
    case Isa::Scalar:
        break;
    }
    return "scalar";
}

std::optional<Isa> isaFromName(std::string_view name)
{
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Vnni})
        if (name == isaName(isa))
            return isa;
    return std::nullopt;
}

} // namespace lathe::cpu
