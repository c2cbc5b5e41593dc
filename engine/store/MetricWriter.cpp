// Batched metric commits on a background thread (see MetricWriter.h).
#include "store/MetricWriter.h"

#include "store/StoreFile.h"

#include <cstdio>

namespace lathe::store {

MetricWriter::MetricWriter(const std::string &storePath, Options options) : m_options(std::move(options))
{
    StoreOptions so;
    so.create = false;
    so.busyTimeoutMs = m_options.busyTimeoutMs;
    m_db = openStore(storePath, so);
    m_thread = std::thread([this] { loop(); });
}

MetricWriter::~MetricWriter()
{
    try {
        close();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "lathe: metric writer: %s\n", e.what());
    }
}

void MetricWriter::append(MetricRow row)
{
    std::lock_guard lock(m_mutex);
    if (m_closed)
        fail("metric writer: append after close");
    m_pending.push_back(std::move(row));
    ++m_appended;
    if (m_pending.size() >= m_options.maxBatch)
        m_wake.notify_one();
}

void MetricWriter::append(std::vector<MetricRow> rows)
{
    std::lock_guard lock(m_mutex);
    if (m_closed)
        fail("metric writer: append after close");
    m_appended += rows.size();
    m_pending.insert(m_pending.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
    if (m_pending.size() >= m_options.maxBatch)
        m_wake.notify_one();
}

void MetricWriter::flush()
{
    std::unique_lock lock(m_mutex);
    const uint64_t target = m_appended;
    if (m_committed >= target)
        return;
    if (m_stop)
        fail("metric writer: flush after close with rows uncommitted");
    const int64_t failedBefore = m_stats.failedCommits;
    m_flushRequested = true;
    m_wake.notify_one();
    m_done.wait(lock, [&] { return m_committed >= target || m_stats.failedCommits > failedBefore; });
    if (m_committed < target)
        fail("metric writer: " + m_error.value_or("commit failed"));
}

void MetricWriter::close()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_closed)
            return;
        m_closed = true;
        m_stop = true;
    }
    m_wake.notify_one();
    if (m_thread.joinable())
        m_thread.join();
    std::lock_guard lock(m_mutex);
    if (m_committed < m_appended)
        fail("metric writer: " + std::to_string(m_appended - m_committed) +
             " rows could not be committed at close: " + m_error.value_or("unknown error"));
}

MetricWriter::Stats MetricWriter::stats() const
{
    std::lock_guard lock(m_mutex);
    return m_stats;
}

bool MetricWriter::commit(std::vector<MetricRow> &batch)
{
    try {
        Transaction tx(*m_db);
        RunRepository(*m_db).insertMetrics(batch);
        tx.commit();
        return true;
    } catch (const Error &e) {
        std::lock_guard lock(m_mutex);
        m_error = e.what();
        return false;
    }
}

void MetricWriter::loop()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait_for(lock, m_options.interval, [&] {
            return m_stop || m_flushRequested || m_pending.size() >= m_options.maxBatch;
        });
        m_flushRequested = false;
        const bool stopping = m_stop;
        if (!m_pending.empty()) {
            std::vector<MetricRow> batch;
            batch.swap(m_pending);
            const uint64_t end = m_committed + batch.size();
            lock.unlock();
            const bool ok = commit(batch);
            if (ok && m_options.onCommitted)
                m_options.onCommitted(batch);
            lock.lock();
            if (ok) {
                m_committed = end;
                ++m_stats.commits;
                m_stats.rowsCommitted += int64_t(batch.size());
                m_error.reset();
            } else {
                // Put the rows back in front of anything appended meanwhile, in order.
                batch.insert(batch.end(), std::make_move_iterator(m_pending.begin()),
                             std::make_move_iterator(m_pending.end()));
                m_pending.swap(batch);
                ++m_stats.failedCommits;
            }
            m_done.notify_all();
            if (!ok && stopping)
                return; // one last try only: close() reports what was lost
        }
        if (stopping && m_pending.empty())
            return;
    }
}

} // namespace lathe::store
