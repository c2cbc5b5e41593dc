// Elementwise CPU ops (swiglu, add) and the embedding lookup. Plain loops the compiler
// vectorises; large arrays are split across the pool.
#include "backend/cpu/CpuOps.h"

#include "core/Error.h"
#include "core/Quant.h"

#include <cmath>

namespace lathe::cpu {

namespace {
constexpr int64_t kGrain = 4096; // below this a split costs more than it saves
}

void swiglu(ThreadPool &pool, const float *gate, const float *up, int64_t n, float *out)
{
    pool.parallelFor(n, [&](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; ++i) {
            const float g = gate[i];
            out[i] = g / (1.0f + std::exp(-g)) * up[i];
        }
    }, kGrain);
}

void add(ThreadPool &pool, const float *a, const float *b, int64_t n, float *out)
{
    pool.parallelFor(n, [&](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; ++i)
            out[i] = a[i] + b[i];
    }, kGrain);
}

void embedding(const TensorView &table, const int32_t *tokens, int64_t T, float *out)
{
    const int64_t rows = table.rows();
    const int64_t cols = table.cols();
    for (int64_t t = 0; t < T; ++t) {
        if (tokens[t] < 0 || tokens[t] >= rows)
            fail("embedding " + table.name + ": token id " + std::to_string(tokens[t]) + " outside [0, " +
                 std::to_string(rows) + ")");
        dequantizeRow(table.dtype, table.row(tokens[t]), out + t * cols, cols);
    }
}

} // namespace lathe::cpu
