// Opening and checking the store file (see StoreFile.h).
#include "store/StoreFile.h"

#include "store/Migrations.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace lathe::store {

namespace {

namespace fs = std::filesystem;

constexpr char kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};

uint32_t bigEndian32(const unsigned char *p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

std::string hex32(uint32_t v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

std::string folderOf(const std::string &path)
{
    const fs::path parent = fs::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

// Writable means both: the permission bits allow writing (we honour a file marked
// read-only even when running as root, who could write it anyway) and access() agrees.
bool writable(const std::string &path, const struct stat &st)
{
    return (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) != 0 && ::access(path.c_str(), W_OK) == 0;
}

std::string newerMessage(const std::string &path, int64_t version)
{
    return path + ": refusing to open: written by a newer Lathe (schema version " + std::to_string(version) +
           ", this build knows up to " + std::to_string(latestSchemaVersion()) +
           "); the file was not modified. Update Lathe or use another --db.";
}

// Checks an existing, non-empty file from its header without opening it in SQLite.
void checkHeader(const std::string &path, uintmax_t size)
{
    unsigned char header[100] = {};
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(path + ": cannot read the file: " + std::strerror(errno));
    in.read(reinterpret_cast<char *>(header), sizeof header);
    if (size < sizeof header || in.gcount() != std::streamsize(sizeof header) ||
        std::memcmp(header, kSqliteMagic, sizeof kSqliteMagic) != 0)
        fail(path + ": refusing to open: not a Lathe database (not an SQLite file); the file was not modified");
    const uint32_t appId = bigEndian32(header + 68);
    if (appId != kApplicationId)
        fail(path + ": refusing to open: an SQLite database that is not a Lathe database (application_id " +
             hex32(appId) + ", Lathe's is " + hex32(kApplicationId) + "); the file was not modified");
    const uint32_t userVersion = bigEndian32(header + 60);
    if (int64_t(userVersion) > latestSchemaVersion())
        fail(newerMessage(path, userVersion));
}

void applyPragmas(Connection &c)
{
    c.exec("PRAGMA journal_mode = WAL");
    c.exec("PRAGMA foreign_keys = ON");
    // FULL: a commit is on disk when COMMIT returns, so "committed" survives power loss
    // too. Metric rows are batched (~10 commits a second), which keeps the fsyncs cheap.
    c.exec("PRAGMA synchronous = FULL");
}

} // namespace

std::string defaultStorePath()
{
    if (const char *home = std::getenv("LATHE_HOME"); home && *home)
        return (fs::path(home) / "lathe.db").string();
    if (const char *xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return (fs::path(xdg) / "lathe" / "lathe.db").string();
    const char *home = std::getenv("HOME");
    return (fs::path(home && *home ? home : ".") / ".local" / "share" / "lathe" / "lathe.db").string();
}

std::unique_ptr<Connection> openStore(const std::string &path, const StoreOptions &options)
{
    const int target = options.schemaVersion < 0 ? latestSchemaVersion() : options.schemaVersion;
    struct stat st = {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    bool fresh = !exists;
    if (exists) {
        if (!S_ISREG(st.st_mode))
            fail(path + ": refusing to open: not a regular file");
        if (!writable(path, st))
            fail(path + ": refusing to open: the file is read-only (Lathe records every job and metric, so it "
                        "needs write access); the file was not modified");
        if (::access(folderOf(path).c_str(), W_OK) != 0)
            fail(path + ": refusing to open: its folder " + folderOf(path) +
                 " is read-only (SQLite's write-ahead log lives beside the file); the file was not modified");
        if (st.st_size > 0)
            checkHeader(path, uintmax_t(st.st_size));
        fresh = st.st_size == 0;
    } else {
        if (!options.create)
            fail(path + ": no Lathe database here");
        std::error_code ec;
        fs::create_directories(folderOf(path), ec);
        if (ec)
            fail(path + ": cannot create the folder " + folderOf(path) + ": " + ec.message());
    }

    std::unique_ptr<Connection> c = Connection::openRaw(path, Connection::Mode::ReadWriteCreate);
    c->setBusyTimeout(options.busyTimeoutMs);
    if (c->isReadOnly())
        fail(path + ": refusing to open: SQLite opened the file read-only; the file was not modified");
    if (fresh) {
        // application_id goes in before WAL is switched on, so it is in the main file's
        // header from the first moment and the outside checks above can rely on it.
        c->exec("PRAGMA application_id = " + std::to_string(int32_t(kApplicationId)));
    } else {
        // The header checks saw the checkpointed file; the WAL may hold newer pages.
        const int64_t appId = c->queryInt("PRAGMA application_id");
        if (uint32_t(appId) != kApplicationId)
            fail(path + ": refusing to open: not a Lathe database (application_id " + hex32(uint32_t(appId)) +
                 "); the file was not modified");
        const int64_t version = c->queryInt("PRAGMA user_version");
        if (version > latestSchemaVersion())
            fail(newerMessage(path, version));
    }
    applyPragmas(*c);
    withContext(path, [&] { migrate(*c, target); });
    return c;
}

} // namespace lathe::store
