// lathe-cli bench store: the store under a training run's write load while the GUI reads.
// A writer logs metric rows at a fixed rate through MetricWriter (batched commits on its
// own connection), and reader threads, each with its own connection, query the run list
// (with every run's latest loss and cost) and the live run's loss curve back to back.
// Reports commits, failed commits, SQLITE_BUSY errors seen by readers, and read latency
// percentiles. The store is a fresh file (a temporary folder unless --db is given),
// filled first with --runs finished runs of --rows-per-run metric rows each.
#include "CliStore.h"
#include "Commands.h"
#include "store/MetricWriter.h"
#include "store/StoreFile.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

namespace lathe::cli {

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

void fill(store::Connection &db, int runs, int rowsPerRun)
{
    store::Transaction tx(db);
    store::RunRepository repo(db);
    store::Statement cost(db, "INSERT INTO cost_entries (run_id, profile_name, kind, started_at, duration_s, "
                              "total_cost) VALUES (?, 'bench', 'train', ?, 3600, 0.5)");
    const double now = store::nowSeconds();
    for (int r = 0; r < runs; ++r) {
        store::RunRecord run;
        run.name = "finished run " + std::to_string(r);
        run.kind = "train";
        run.status = "completed";
        run.createdAt = now - 86400.0 * (runs - r);
        const int64_t id = repo.create(run);
        std::vector<store::MetricRow> rows;
        for (int s = 1; s <= rowsPerRun; ++s)
            rows.push_back({id, s, s % 4 == 0 ? "lr" : "loss", 3.0 / s, run.createdAt + s});
        repo.insertMetrics(rows);
        cost.bind(1, id).bind(2, run.createdAt).exec();
        cost.reset();
    }
    tx.commit();
}

} // namespace

int runBenchStore(const Args &argv)
{
    ArgParser args("bench store", "[--seconds N] [--rate R] [--readers N] [--runs N] [--rows-per-run N] [--db PATH]",
                   "Write load (metric rows per second through the batched writer) against concurrent readers\n"
                   "of the run list and the live loss curve, each thread on its own connection (WAL).\n"
                   "Prints commits, failed commits, reader SQLITE_BUSY errors and read latency p50/p99/max.");
    args.option("seconds", "N", "how long the load runs", "10")
        .option("rate", "R", "metric rows written per second", "1000")
        .option("readers", "N", "reader threads", "2")
        .option("runs", "N", "finished runs in the store before the load", "200")
        .option("rows-per-run", "N", "metric rows of each finished run", "2000")
        .option("db", "PATH", "store file to create (default: a temporary folder, removed after)");
    if (!args.parse(argv))
        return 0;
    const double seconds = args.doubleValue("seconds", 0.5, 3600);
    const int rate = int(args.intValue("rate", 1, 10000000));
    const int readers = int(args.intValue("readers", 0, 64));
    const int runs = int(args.intValue("runs", 0, 1000000));
    const int rowsPerRun = int(args.intValue("rows-per-run", 0, 10000000));

    std::filesystem::path tmpDir;
    std::string path = args.value("db");
    if (path.empty()) {
        std::string templ = (std::filesystem::temp_directory_path() / "lathe-bench-store-XXXXXX").string();
        if (!mkdtemp(templ.data()))
            fail("cannot create a temporary folder");
        tmpDir = templ;
        path = (tmpDir / "bench.db").string();
    } else if (std::filesystem::exists(path)) {
        fail(path + ": exists; bench store writes a fresh store (give a new path)");
    }

    int64_t liveRun = 0;
    {
        auto db = store::openStore(path);
        const auto t0 = Clock::now();
        fill(*db, runs, rowsPerRun);
        std::printf("store:        %s\n", path.c_str());
        std::printf("filled:       %d runs x %d metric rows in %.2f s\n", runs, rowsPerRun, msSince(t0) / 1000);
        store::RunRecord live;
        live.name = "live run";
        live.kind = "train";
        live.status = "running";
        liveRun = store::RunRepository(*db).create(live);
    }

    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<double> listMs, curveMs;
    std::atomic<int64_t> busy{0}, otherErrors{0};
    std::vector<std::thread> threads;
    for (int r = 0; r < readers; ++r)
        threads.emplace_back([&] {
            auto db = store::openStore(path);
            store::RunRepository repo(*db);
            std::vector<double> mine, mineCurve;
            while (!stop.load()) {
                try {
                    auto t0 = Clock::now();
                    const auto list = repo.list(100);
                    mine.push_back(msSince(t0));
                    t0 = Clock::now();
                    const auto curve = repo.metrics(liveRun, "loss");
                    mineCurve.push_back(msSince(t0));
                    if (list.empty())
                        ++otherErrors;
                } catch (const store::SqliteError &e) {
                    (e.isBusy() ? busy : otherErrors)++;
                }
            }
            std::lock_guard lock(mutex);
            listMs.insert(listMs.end(), mine.begin(), mine.end());
            curveMs.insert(curveMs.end(), mineCurve.begin(), mineCurve.end());
        });

    store::MetricWriter writer(path);
    const auto start = Clock::now();
    int64_t written = 0, step = 0;
    // 100 bursts a second, each catching up with the schedule: rate rows per second.
    for (int tick = 1; msSince(start) < seconds * 1000; ++tick) {
        std::this_thread::sleep_until(start + std::chrono::milliseconds(10 * tick));
        const int64_t due = int64_t(double(rate) * msSince(start) / 1000.0);
        for (; written < due; ++written)
            writer.append({liveRun, ++step, "loss", 1.0 / double(step), store::nowSeconds()});
    }
    const double writeSeconds = msSince(start) / 1000;
    writer.close();
    stop = true;
    for (auto &t : threads)
        t.join();
    const auto stats = writer.stats();

    std::printf("load:         %.1f s, %d reader thread(s)\n", writeSeconds, readers);
    std::printf("writer:       %lld rows (%.0f rows/s), %lld commits (%.1f/s), %lld failed commits\n",
                (long long)stats.rowsCommitted, double(stats.rowsCommitted) / writeSeconds, (long long)stats.commits,
                double(stats.commits) / writeSeconds, (long long)stats.failedCommits);
    std::printf("readers:      %zu run-list queries, %zu live-curve queries, %lld SQLITE_BUSY, %lld other errors\n",
                listMs.size(), curveMs.size(), (long long)busy.load(), (long long)otherErrors.load());
    std::printf("run list:     p50 %.2f ms, p99 %.2f ms, max %.2f ms (100 runs with last loss and cost)\n",
                percentile(listMs, 0.5), percentile(listMs, 0.99), percentile(listMs, 1.0));
    std::printf("live curve:   p50 %.2f ms, p99 %.2f ms, max %.2f ms (up to %lld rows)\n", percentile(curveMs, 0.5),
                percentile(curveMs, 0.99), percentile(curveMs, 1.0), (long long)step);
    if (!tmpDir.empty())
        std::filesystem::remove_all(tmpDir);
    return stats.failedCommits == 0 && busy.load() == 0 && otherErrors.load() == 0 ? 0 : 1;
}

} // namespace lathe::cli
