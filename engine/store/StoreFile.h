// StoreFile: opening Lathe's database file. Before SQLite touches an existing file it is
// checked from the outside (permissions, the SQLite magic, application_id and
// user_version in the header), so a file that is not ours, is from a newer Lathe, or is
// read-only is refused with a clear message and left byte-for-byte as it was.
#pragma once

#include "store/Sqlite.h"

#include <memory>
#include <string>

namespace lathe::store {

struct StoreOptions
{
    bool create = true;           // create the file (and its folder) when absent
    int busyTimeoutMs = 5000;     // how long a statement waits for the write lock
    int schemaVersion = -1;       // -1: migrate to the latest; tests build older versions
};

// Opens the store at path, creating and migrating it as needed, and returns a connection
// with Lathe's pragmas applied (WAL, foreign keys, busy timeout, synchronous=FULL).
// Throws Error naming the path when the file is refused or cannot be opened.
std::unique_ptr<Connection> openStore(const std::string &path, const StoreOptions &options = {});

// The default store location: $LATHE_HOME/lathe.db, else $XDG_DATA_HOME/lathe/lathe.db,
// else ~/.local/share/lathe/lathe.db.
std::string defaultStorePath();

} // namespace lathe::store
