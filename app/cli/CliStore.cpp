// Store helpers for the CLI (see CliStore.h).
#include "CliStore.h"

#include "core/Error.h"
#include "store/StoreFile.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace lathe::cli {

ArgParser &addDbOption(ArgParser &args)
{
    return args.option("db", "PATH", "the Lathe database (default: $LATHE_HOME/lathe.db or ~/.local/share/lathe/lathe.db)");
}

std::string dbPath(const ArgParser &args)
{
    return args.has("db") ? args.value("db") : store::defaultStorePath();
}

bool storeExists(const ArgParser &args)
{
    return std::filesystem::exists(dbPath(args));
}

std::unique_ptr<store::Connection> openCliStore(const ArgParser &args)
{
    const std::string path = dbPath(args);
    if (!std::filesystem::exists(path))
        fail("no Lathe database at " + path + " (nothing recorded yet; pass --db to use another)");
    return store::openStore(path);
}

int64_t idArgument(const ArgParser &args, size_t index, const char *what)
{
    const std::string text = args.positionalValue(index);
    char *end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v <= 0)
        throw UsageError(std::string(what) + ": expected a positive id, got '" + text + "'");
    return v;
}

std::string formatTime(double unixSeconds)
{
    if (!(unixSeconds > 0))
        return "-";
    const std::time_t t = std::time_t(unixSeconds);
    std::tm tm = {};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

void writeTextFile(const std::string &path, const std::string &text)
{
    if (path == "-") {
        std::fwrite(text.data(), 1, text.size(), stdout);
        return;
    }
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        if (!out || !out.write(text.data(), std::streamsize(text.size())))
            fail(path + ": cannot write");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        fail(path + ": cannot write: " + ec.message());
}

} // namespace lathe::cli
