#include "core/ThreadPool.h"

#include <algorithm>
#include <exception>
#include <utility>

namespace lathe {

namespace {

constexpr int kWorkerSpins = 8192;
constexpr int kCallerSpins = 32768;

// One step of a busy wait: a pause, and every 64th step a yield to the scheduler.
void relax(int spin)
{
    if ((spin & 63) == 63) {
        std::this_thread::yield();
        return;
    }
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

} // namespace

ThreadPool::ThreadPool(int threads)
{
    if (threads <= 0)
        threads = int(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i < threads; ++i)
        m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        ++m_generation;
        m_published.store(m_generation, std::memory_order_release);
    }
    m_wake.notify_all();
    for (std::thread &t : m_workers)
        t.join();
}

void ThreadPool::runShare(int index)
{
    const int parts = size();
    const int64_t blocks = (m_n + m_grain - 1) / m_grain;
    const int64_t b0 = blocks * index / parts;
    const int64_t b1 = blocks * (index + 1) / parts;
    const int64_t begin = std::min(m_n, b0 * m_grain);
    const int64_t end = std::min(m_n, b1 * m_grain);
    if (begin >= end)
        return;
    try {
        (*m_fn)(begin, end, index);
    } catch (...) {
        std::lock_guard lock(m_mutex);
        if (!m_error)
            m_error = std::current_exception();
    }
}

void ThreadPool::workerLoop(int index)
{
    uint64_t seen = 0;
    for (;;) {
        // Spin briefly first: decode issues many short loops back to back and a
        // condition-variable wake-up costs more than the work. The spin yields now and
        // then so that an oversubscribed machine (other processes, more pools than
        // cores) still makes progress instead of burning the caller's time slice.
        uint64_t gen = m_published.load(std::memory_order_acquire);
        for (int spin = 0; gen == seen && spin < kWorkerSpins; ++spin) {
            relax(spin);
            gen = m_published.load(std::memory_order_acquire);
        }
        if (gen == seen) {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_generation != seen; });
            gen = m_generation;
        }
        seen = gen;
        if (m_stop)
            return;
        runShare(index);
        if (m_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard lock(m_mutex);
            m_done.notify_one();
        }
    }
}

void ThreadPool::parallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)> &fn, int64_t grain)
{
    if (n <= 0)
        return;
    grain = std::max<int64_t>(1, grain);
    if (m_workers.empty() || n <= grain) {
        fn(0, n, 0);
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_fn = &fn;
        m_n = n;
        m_grain = grain;
        m_error = nullptr;
        m_pending.store(int(m_workers.size()), std::memory_order_relaxed);
        ++m_generation;
        m_published.store(m_generation, std::memory_order_release);
    }
    m_wake.notify_all();
    runShare(0);
    // Wait for the workers: spin first for the same reason as above.
    for (int spin = 0; m_pending.load(std::memory_order_acquire) != 0 && spin < kCallerSpins; ++spin)
        relax(spin);
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return m_pending.load(std::memory_order_acquire) == 0; });
    m_fn = nullptr;
    if (m_error)
        std::rethrow_exception(std::exchange(m_error, nullptr));
}

} // namespace lathe
