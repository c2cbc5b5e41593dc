// Parallel: the one way the training ops split work over the ThreadPool. Work is cut
// into ranges whose boundaries depend only on n and grain, and every op computes each
// output element with the same sequence of operations whatever range it falls in, so
// results never depend on the thread count or on scheduling.
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>
#include <functional>

namespace lathe::train {

// Calls fn(begin, end) over disjoint ranges covering [0, n): on the pool when it has
// more than one thread and there is more than one grain of work, else inline. fn must
// not call parallelFor on the same pool (ThreadPool is not re-entrant).
inline void parallelRanges(ThreadPool *pool, int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &fn)
{
    if (n <= 0)
        return;
    if (pool == nullptr || pool->size() == 1 || n <= grain) {
        fn(0, n);
        return;
    }
    pool->parallelFor(n, [&](int64_t b, int64_t e, int) { fn(b, e); }, grain);
}

} // namespace lathe::train
