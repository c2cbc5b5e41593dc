// ThreadPool: a fixed set of workers for data-parallel loops in the compute path.
// parallelFor splits [0, n) into one contiguous range per thread (the caller runs the
// first), so each output row is computed by exactly one thread in a fixed order:
// results are bit-identical for the same thread count. Not re-entrant: a task must
// not call parallelFor on the same pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lathe {

class ThreadPool
{
public:
    // threads <= 0 picks the number of hardware threads.
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool &operator=(const ThreadPool &) = delete;

    int size() const { return int(m_workers.size()) + 1; }

    // Calls fn(begin, end, threadIndex) over disjoint ranges covering [0, n), aligned to
    // `grain` (except the last). Returns when all ranges are done. Exceptions thrown by
    // fn are rethrown here (the first one).
    void parallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)> &fn, int64_t grain = 1);

private:
    void workerLoop(int index);
    void runShare(int index);

    std::vector<std::thread> m_workers;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    const std::function<void(int64_t, int64_t, int)> *m_fn = nullptr;
    int64_t m_n = 0;
    int64_t m_grain = 1;
    uint64_t m_generation = 0;
    std::atomic<uint64_t> m_published{0};
    std::atomic<int> m_pending{0};
    bool m_stop = false;
    std::exception_ptr m_error;
};

} // namespace lathe
