// IsaRows: the data rows the matmul suites share: every ISA level this CPU can run
// (scalar up to what cpuid reports), alone or crossed with a list of weight types, so
// each kernel variant is tested on the machine that runs the suite.
#pragma once

#include "backend/cpu/CpuFeatures.h"
#include "core/DType.h"

#include <QtTest>

#include <span>

namespace lathe::test {

// Columns "isa" (int).
inline void addIsaRows()
{
    QTest::addColumn<int>("isa");
    for (int isa = 0; isa <= int(cpu::detectedIsa()); ++isa)
        QTest::newRow(cpu::isaName(cpu::Isa(isa))) << isa;
}

// Columns "isa" and "type" (ints), one row per ISA level and type.
inline void addIsaTypeRows(std::span<const DType> types)
{
    QTest::addColumn<int>("isa");
    QTest::addColumn<int>("type");
    for (int isa = 0; isa <= int(cpu::detectedIsa()); ++isa)
        for (DType t : types)
            QTest::newRow((QByteArray(cpu::isaName(cpu::Isa(isa))) + "-" + dtypeName(t)).constData())
                << isa << int(t);
}

} // namespace lathe::test
