// MetricWriter: takes metric rows from any thread and commits them in batches from one
// background thread, on its own connection: one transaction at most every `interval`
// (~100 ms), so a training loop logging thousands of rows a second costs ~10 commits a
// second and never waits on the disk. flush() is the barrier a checkpoint needs: when it
// returns, every row appended before it is committed.
#pragma once

#include "store/RunRepository.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lathe::store {

struct MetricWriterOptions
{
    std::chrono::milliseconds interval{100};
    size_t maxBatch = 20000; // commit early when this many rows wait
    int busyTimeoutMs = 5000;
    // Called on the writer thread after each commit with the rows it committed.
    std::function<void(const std::vector<MetricRow> &)> onCommitted;
};

class MetricWriter
{
public:
    using Options = MetricWriterOptions;
    struct Stats
    {
        int64_t rowsCommitted = 0;
        int64_t commits = 0;
        int64_t failedCommits = 0; // retried on the next tick
    };

    // Opens its own connection to the store at storePath (openStore: checked, migrated).
    explicit MetricWriter(const std::string &storePath, Options options = {});
    // Commits what is pending (errors are logged to stderr only) and joins the thread.
    ~MetricWriter();
    MetricWriter(const MetricWriter &) = delete;
    MetricWriter &operator=(const MetricWriter &) = delete;

    // Thread-safe, never blocks on the database.
    void append(MetricRow row);
    void append(std::vector<MetricRow> rows);
    // Blocks until every row appended before the call is committed. Throws Error when a
    // commit failed (the rows stay queued and are retried).
    void flush();
    // flush(), then stops the thread. Further appends are an error. Idempotent.
    void close();

    Stats stats() const;

private:
    void loop();
    bool commit(std::vector<MetricRow> &batch);

    Options m_options;
    std::unique_ptr<Connection> m_db;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    std::vector<MetricRow> m_pending;
    uint64_t m_appended = 0, m_committed = 0; // row sequence numbers
    bool m_flushRequested = false, m_stop = false, m_closed = false;
    std::optional<std::string> m_error;
    Stats m_stats;
    std::thread m_thread;
};

} // namespace lathe::store
