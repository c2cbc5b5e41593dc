// The schema steps (see Migrations.h). Times are Unix seconds (REAL); enums are stored
// as their lower-case names, which never change once written; JSON columns hold objects.
#include "store/Migrations.h"

#include "store/Sqlite.h"

#include <string>

namespace lathe::store {

namespace {

// Step 1: the catalogue (models, datasets), run history and the job queue.
void step1(Connection &c)
{
    c.exec(R"sql(
CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  arch TEXT NOT NULL DEFAULT '',
  parameters INTEGER,
  content_hash TEXT,
  created_at REAL NOT NULL
);
CREATE TABLE datasets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  content_hash TEXT NOT NULL,
  records INTEGER,
  tokens INTEGER,
  created_at REAL NOT NULL
);
CREATE INDEX datasets_hash ON datasets(content_hash);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  spec_json TEXT NOT NULL DEFAULT '{}',
  base_model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
  adapter_path TEXT,
  resumed_from INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  created_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  final_metrics_json TEXT NOT NULL DEFAULT '{}',
  error TEXT
);
CREATE INDEX runs_created ON runs(created_at);
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, name, step)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER,
  created_at REAL NOT NULL,
  UNIQUE (run_id, step)
);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  resource TEXT NOT NULL,
  spec_json TEXT NOT NULL DEFAULT '{}',
  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  progress REAL NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  error TEXT,
  pause_reason TEXT,
  request TEXT,
  owner_pid INTEGER,
  owner_token TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  updated_at REAL NOT NULL
);
CREATE INDEX jobs_state ON jobs(state, priority);
)sql");
}

// Step 2: the cost ledger. Entries snapshot the profile name and the computed amounts,
// so editing a profile later never rewrites history.
void step2(Connection &c)
{
    c.exec(R"sql(
CREATE TABLE price_profiles (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  currency TEXT NOT NULL DEFAULT 'USD',
  hourly_rate REAL NOT NULL DEFAULT 0,
  purchase_price REAL NOT NULL DEFAULT 0,
  lifetime_hours REAL NOT NULL DEFAULT 0,
  kwh_price REAL NOT NULL DEFAULT 0,
  tdp_watts REAL NOT NULL DEFAULT 0,
  dense_tflops REAL NOT NULL DEFAULT 0,
  memory_gb REAL NOT NULL DEFAULT 0,
  is_example INTEGER NOT NULL DEFAULT 0,
  is_default INTEGER NOT NULL DEFAULT 0,
  note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE cost_entries (
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
  profile_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  started_at REAL NOT NULL,
  duration_s REAL NOT NULL DEFAULT 0,
  energy_j REAL NOT NULL DEFAULT 0,
  power_source TEXT NOT NULL DEFAULT '',
  measured INTEGER NOT NULL DEFAULT 0,
  time_cost REAL NOT NULL DEFAULT 0,
  energy_cost REAL NOT NULL DEFAULT 0,
  total_cost REAL NOT NULL DEFAULT 0,
  currency TEXT NOT NULL DEFAULT 'USD',
  tokens_trained INTEGER NOT NULL DEFAULT 0,
  tokens_generated INTEGER NOT NULL DEFAULT 0,
  gpu_hours REAL NOT NULL DEFAULT 0
);
CREATE INDEX cost_entries_time ON cost_entries(started_at);
CREATE INDEX cost_entries_run ON cost_entries(run_id);
CREATE TABLE budgets (
  scope TEXT PRIMARY KEY,
  warn_amount REAL,
  limit_amount REAL,
  currency TEXT NOT NULL DEFAULT 'USD'
);
)sql");
}

// Step 3: the playground's side-by-side comparisons, their ratings, and a response cache.
void step3(Connection &c)
{
    c.exec(R"sql(
CREATE TABLE comparisons (
  id INTEGER PRIMARY KEY,
  prompt TEXT NOT NULL,
  model_a TEXT NOT NULL,
  model_b TEXT NOT NULL,
  response_a TEXT NOT NULL,
  response_b TEXT NOT NULL,
  params_json TEXT NOT NULL DEFAULT '{}',
  created_at REAL NOT NULL
);
CREATE TABLE ratings (
  id INTEGER PRIMARY KEY,
  comparison_id INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,
  winner TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL
);
CREATE INDEX ratings_comparison ON ratings(comparison_id);
CREATE TABLE response_cache (
  key TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  response TEXT NOT NULL,
  tokens INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  last_used_at REAL NOT NULL,
  hits INTEGER NOT NULL DEFAULT 0
);
)sql");
}

// Step 4: run totals as columns (what the run list, the cost card and what-if read),
// backfilled from the final metrics recorded by step-1 stores.
void step4(Connection &c)
{
    c.exec(R"sql(
ALTER TABLE runs ADD COLUMN tokens_trained INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN tokens_generated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN flops REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN peak_vram_bytes INTEGER;
UPDATE runs SET
  tokens_trained = COALESCE(json_extract(final_metrics_json, '$.tokens_trained'), 0),
  tokens_generated = COALESCE(json_extract(final_metrics_json, '$.tokens_generated'), 0),
  flops = COALESCE(json_extract(final_metrics_json, '$.flops'), 0),
  peak_vram_bytes = json_extract(final_metrics_json, '$.peak_vram_bytes')
WHERE json_valid(final_metrics_json);
)sql");
}

struct Step
{
    void (*apply)(Connection &);
    const char *summary;
};

const Step kSteps[] = {
    {step1, "models, datasets, runs, metrics, checkpoints, jobs"},
    {step2, "price profiles, cost entries, budgets"},
    {step3, "comparisons, ratings, response cache"},
    {step4, "run totals: tokens trained/generated, FLOPs, peak VRAM"},
};

} // namespace

int latestSchemaVersion()
{
    return int(std::size(kSteps));
}

const char *migrationSummary(int version)
{
    return version >= 1 && version <= latestSchemaVersion() ? kSteps[version - 1].summary : "";
}

void migrate(Connection &connection, int target)
{
    if (target < 0 || target > latestSchemaVersion())
        fail("migrate: target schema version " + std::to_string(target) + " out of range 0.." +
             std::to_string(latestSchemaVersion()));
    for (int version = 1; version <= target; ++version) {
        if (connection.queryInt("PRAGMA user_version") >= version)
            continue;
        Transaction tx(connection);
        // Re-read under the write lock: another connection may have just applied it.
        if (connection.queryInt("PRAGMA user_version") >= version)
            continue;
        withContext(connection.path() + ": schema step " + std::to_string(version),
                    [&] { kSteps[version - 1].apply(connection); });
        connection.exec("PRAGMA user_version = " + std::to_string(version));
        tx.commit();
    }
}

} // namespace lathe::store
