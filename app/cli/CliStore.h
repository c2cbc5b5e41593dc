// What the store commands (runs, jobs, cost, bench store) share: the --db option (default
// $LATHE_HOME/lathe.db, else ~/.local/share/lathe/lathe.db), opening the store with a
// clear message when there is none, ids from the command line, and time formatting.
#pragma once

#include "ArgParser.h"
#include "store/Sqlite.h"

#include <cstdint>
#include <memory>
#include <string>

namespace lathe::cli {

ArgParser &addDbOption(ArgParser &args);
std::string dbPath(const ArgParser &args);
bool storeExists(const ArgParser &args);
// Opens (and migrates) the store; Error "no Lathe database at PATH" when it is absent.
std::unique_ptr<store::Connection> openCliStore(const ArgParser &args);
// Positional `index` as a positive id; UsageError naming `what` otherwise.
int64_t idArgument(const ArgParser &args, size_t index, const char *what);
// "2026-12-01 13:05:07" in local time; "-" for 0 or absent.
std::string formatTime(double unixSeconds);
// Writes text to path through a temporary file and a rename ("-": stdout).
void writeTextFile(const std::string &path, const std::string &text);

} // namespace lathe::cli
