// Migrations: the store's schema as a numbered list of steps. PRAGMA user_version holds
// the number of the last step applied; opening a store applies the missing ones, each in
// its own transaction, so a crash leaves the file at the previous version, never between.
// Steps are never renumbered or edited once released: a schema change is a new step with
// a test that upgrades a store written at every earlier version.
#pragma once

#include <cstdint>

namespace lathe::store {

class Connection;

// Marks a file as Lathe's (PRAGMA application_id, bytes 68..71 of the header): "LATH".
constexpr uint32_t kApplicationId = 0x4C415448;

// The newest schema version this build knows.
int latestSchemaVersion();

// One line saying what step `version` adds (for logs and `--help`).
const char *migrationSummary(int version);

// Applies steps user_version+1 .. target (target <= latestSchemaVersion()), each in a
// transaction that also sets user_version. A step that another connection applied in
// the meantime is skipped. Throws SqliteError; the file keeps the last completed step.
void migrate(Connection &connection, int target);

} // namespace lathe::store
