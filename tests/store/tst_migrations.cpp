// Migrations (acceptance 3): a store written at every earlier schema version — by
// running only steps 1..N and inserting rows with that version's SQL — upgrades one step
// at a time and straight to the latest, with every row intact and the step-4 run
// totals backfilled from the final metrics the older stores kept in JSON.
#include "Fixtures.h"
#include "store/CatalogRepository.h"
#include "store/CostRepository.h"
#include "store/JobRepository.h"
#include "store/Migrations.h"
#include "store/PlaygroundRepository.h"
#include "store/RunRepository.h"
#include "store/StoreFile.h"

#include <QtTest>

using namespace lathe;
using namespace lathe::store;

namespace {

// Rows as a version-N store would hold them, written with that version's columns only.
void writeFixtures(Connection &c, int version)
{
    c.exec(R"sql(
INSERT INTO models (id, name, path, format, arch, parameters, content_hash, created_at)
  VALUES (1, 'stories260K', '/m/stories260K.gguf', 'gguf', 'llama', 260000, 'abc123', 1700000000.5);
INSERT INTO datasets (id, name, path, format, content_hash, records, tokens, created_at)
  VALUES (1, 'alpaca', '/d/alpaca.json', 'alpaca', 'f00dfeed', 999, 123456, 1700000001);
INSERT INTO runs (id, name, kind, status, spec_json, base_model_id, dataset_id, adapter_path, resumed_from,
                  created_at, started_at, finished_at, final_metrics_json, error)
  VALUES (1, 'first', 'train', 'completed', '{"lr":0.001}', 1, 1, '/a/first', NULL, 1700000100, 1700000101,
          1700003701, '{"eval_loss":1.25,"tokens_trained":98765,"tokens_generated":12,"flops":7.5e12,"peak_vram_bytes":1073741824}', NULL);
INSERT INTO runs (id, name, kind, status, spec_json, resumed_from, created_at, final_metrics_json, error)
  VALUES (2, 'second', 'train', 'failed', '{}', 1, 1700010000, 'not json', 'out of memory');
INSERT INTO metrics (run_id, name, step, value, wall_time) VALUES
  (1, 'loss', 1, 2.5, 1700000102), (1, 'loss', 2, 2.25, 1700000103), (1, 'lr', 1, 0.001, 1700000102);
INSERT INTO checkpoints (id, run_id, step, path, bytes, created_at) VALUES (1, 1, 2, '/a/first/ckpt-2', 4096, 1700000104);
INSERT INTO jobs (id, kind, state, priority, resource, spec_json, run_id, progress, message, error, pause_reason,
                  request, owner_pid, owner_token, attempts, created_at, started_at, finished_at, updated_at)
  VALUES (1, 'train', 'paused', 5, 'gpu', '{"lr":0.001}', 1, 0.4, 'step 40/100', NULL, 'budget: month', NULL,
          NULL, NULL, 2, 1700000099, 1700000101, NULL, 1700000200);
)sql");
    if (version >= 2)
        c.exec(R"sql(
INSERT INTO price_profiles (id, name, kind, currency, hourly_rate, purchase_price, lifetime_hours, kwh_price,
                            tdp_watts, dense_tflops, memory_gb, is_example, is_default, note)
  VALUES (1, 'my card', 'owned', 'EUR', 0, 450, 9000, 0.32, 165, 44, 16, 0, 1, 'bought 2024');
INSERT INTO cost_entries (id, run_id, job_id, profile_name, kind, started_at, duration_s, energy_j, power_source,
                          measured, time_cost, energy_cost, total_cost, currency, tokens_trained, tokens_generated,
                          gpu_hours)
  VALUES (1, 1, 1, 'my card', 'train', 1700000101, 3600, 540000, 'nvml', 1, 0.05, 0.048, 0.098, 'EUR', 98765, 0, 1);
INSERT INTO budgets (scope, warn_amount, limit_amount, currency) VALUES ('month', 8, 10, 'EUR');
)sql");
    if (version >= 3)
        c.exec(R"sql(
INSERT INTO comparisons (id, prompt, model_a, model_b, response_a, response_b, params_json, created_at)
  VALUES (1, 'Tell a story', 'base', 'tuned', 'Once', 'Once upon', '{"temperature":0}', 1700020000);
INSERT INTO ratings (id, comparison_id, winner, note, created_at) VALUES (1, 1, 'b', 'more fluent', 1700020001);
INSERT INTO response_cache (key, model, response, tokens, created_at, last_used_at, hits)
  VALUES ('k1', 'tuned', 'Once upon a time', 4, 1700020000, 1700020002, 3);
)sql");
}

void verifyFixtures(Connection &c, int writtenAt, int openedAt)
{
    CatalogRepository catalog(c);
    const auto model = catalog.findModel(1);
    QVERIFY(model);
    QCOMPARE(QString::fromStdString(model->name), QString("stories260K"));
    QCOMPARE(model->parameters.value_or(0), int64_t(260000));
    QCOMPARE(model->createdAt, 1700000000.5);
    const auto ds = catalog.findDatasetByHash("f00dfeed");
    QVERIFY(ds);
    QCOMPARE(ds->records.value_or(0), int64_t(999));

    RunRepository runs(c);
    const auto first = runs.find(1);
    QVERIFY(first);
    QCOMPARE(QString::fromStdString(first->status), QString("completed"));
    QCOMPARE(QString::fromStdString(first->specJson), QString(R"({"lr":0.001})"));
    QCOMPARE(first->baseModelId.value_or(0), int64_t(1));
    QCOMPARE(QString::fromStdString(first->adapterPath.value_or("")), QString("/a/first"));
    QCOMPARE(first->finishedAt.value_or(0), 1700003701.0);
    const auto second = runs.find(2);
    QVERIFY(second);
    QCOMPARE(second->resumedFrom.value_or(0), int64_t(1));
    QCOMPARE(QString::fromStdString(second->error.value_or("")), QString("out of memory"));
    if (openedAt >= 4 && writtenAt < 4) { // the step-4 backfill from final_metrics_json
        QCOMPARE(first->tokensTrained, int64_t(98765));
        QCOMPARE(first->tokensGenerated, int64_t(12));
        QCOMPARE(first->flops, 7.5e12);
        QCOMPARE(first->peakVramBytes.value_or(0), int64_t(1073741824));
        QCOMPARE(second->tokensTrained, int64_t(0)); // invalid JSON: left at the default
        QVERIFY(!second->peakVramBytes);
    }
    const auto loss = runs.metrics(1, "loss");
    QCOMPARE(loss.size(), size_t(2));
    QCOMPARE(loss[1].value, 2.25);
    QCOMPARE(runs.metricCount(1), int64_t(3));
    const auto ckpt = runs.latestCheckpoint(1);
    QVERIFY(ckpt);
    QCOMPARE(ckpt->step, int64_t(2));
    QCOMPARE(ckpt->bytes.value_or(0), int64_t(4096));

    const auto job = JobRepository(c).find(1);
    QVERIFY(job);
    QCOMPARE(int(job->state), int(JobState::Paused));
    QCOMPARE(job->priority, 5);
    QCOMPARE(job->attempts, 2);
    QCOMPARE(QString::fromStdString(job->pauseReason.value_or("")), QString("budget: month"));

    if (openedAt >= 2 && writtenAt >= 2) {
        CostRepository costs(c);
        const auto p = costs.findProfile("my card");
        QVERIFY(p);
        QCOMPARE(QString::fromStdString(p->currency), QString("EUR"));
        QCOMPARE(p->purchasePrice, 450.0);
        QVERIFY(p->isDefault);
        QCOMPARE(costs.totalForRun(1), 0.098);
        const auto entries = costs.entriesForRun(1);
        QCOMPARE(entries.size(), size_t(1));
        QVERIFY(entries[0].measured);
        QCOMPARE(QString::fromStdString(entries[0].powerSource), QString("nvml"));
        const auto budgets = costs.budgets();
        QCOMPARE(budgets.size(), size_t(1));
        QCOMPARE(budgets[0].limitAmount.value_or(0), 10.0);
    }
    if (openedAt >= 3 && writtenAt >= 3) {
        PlaygroundRepository play(c);
        const auto cmp = play.findComparison(1);
        QVERIFY(cmp);
        QCOMPARE(QString::fromStdString(cmp->responseB), QString("Once upon"));
        QCOMPARE(play.ratings(1).size(), size_t(1));
        const auto cached = play.cacheGet("k1");
        QVERIFY(cached);
        QCOMPARE(cached->hits, int64_t(4)); // 3 stored + this lookup
    }
}

std::string scalar(Connection &c, const std::string &sql)
{
    Statement st(c, sql);
    return st.step() ? st.columnText(0) : std::string("<no row>");
}

// Checks with plain SQL that holds at any version >= writtenAt (the repositories
// speak only the latest schema).
void verifyRaw(Connection &c, int writtenAt, int openedAt)
{
    QCOMPARE(scalar(c, "SELECT name || '|' || parameters || '|' || content_hash FROM models WHERE id = 1"),
             std::string("stories260K|260000|abc123"));
    QCOMPARE(scalar(c, "SELECT content_hash || '|' || records FROM datasets"), std::string("f00dfeed|999"));
    QCOMPARE(scalar(c, "SELECT spec_json || '|' || status || '|' || adapter_path FROM runs WHERE id = 1"),
             std::string(R"({"lr":0.001}|completed|/a/first)"));
    QCOMPARE(scalar(c, "SELECT resumed_from || '|' || error FROM runs WHERE id = 2"), std::string("1|out of memory"));
    QCOMPARE(scalar(c, "SELECT COUNT(*) || '|' || SUM(value) FROM metrics"), std::string("3|4.751"));
    QCOMPARE(scalar(c, "SELECT path || '|' || bytes FROM checkpoints"), std::string("/a/first/ckpt-2|4096"));
    QCOMPARE(scalar(c, "SELECT state || '|' || priority || '|' || pause_reason || '|' || attempts FROM jobs"),
             std::string("paused|5|budget: month|2"));
    if (writtenAt >= 2) {
        QCOMPARE(scalar(c, "SELECT currency || '|' || purchase_price || '|' || is_default FROM price_profiles"),
                 std::string("EUR|450.0|1"));
        QCOMPARE(scalar(c, "SELECT total_cost || '|' || power_source || '|' || measured FROM cost_entries"),
                 std::string("0.098|nvml|1"));
        QCOMPARE(scalar(c, "SELECT scope || '|' || limit_amount FROM budgets"), std::string("month|10.0"));
    }
    if (writtenAt >= 3) {
        QCOMPARE(scalar(c, "SELECT response_b FROM comparisons"), std::string("Once upon"));
        QCOMPARE(scalar(c, "SELECT winner || '|' || note FROM ratings"), std::string("b|more fluent"));
        QCOMPARE(scalar(c, "SELECT hits FROM response_cache WHERE key = 'k1'"), std::string("3"));
    }
    if (writtenAt < 4 && openedAt >= 4)
        QCOMPARE(scalar(c, "SELECT tokens_trained || '|' || peak_vram_bytes FROM runs WHERE id = 1"),
                 std::string("98765|1073741824"));
}

std::unique_ptr<Connection> openAt(const std::string &path, int version)
{
    StoreOptions o;
    o.schemaVersion = version;
    return openStore(path, o);
}

} // namespace

class TestMigrations : public QObject
{
    Q_OBJECT

private slots:
    void stepsAreNumberedAndDescribed()
    {
        QVERIFY(latestSchemaVersion() >= 4);
        for (int v = 1; v <= latestSchemaVersion(); ++v)
            QVERIFY(std::string(migrationSummary(v)).size() > 0);
        QCOMPARE(std::string(migrationSummary(latestSchemaVersion() + 1)), std::string());
    }

    void eachStepFromThePreviousVersion_data()
    {
        QTest::addColumn<int>("version");
        for (int v = 1; v < latestSchemaVersion(); ++v)
            QTest::newRow(qPrintable(QString("v%1->v%2").arg(v).arg(v + 1))) << v;
    }
    void eachStepFromThePreviousVersion()
    {
        QFETCH(int, version);
        QTemporaryDir dir;
        const std::string path = dir.filePath("store.db").toStdString();
        {
            auto c = openAt(path, version);
            QCOMPARE(c->queryInt("PRAGMA user_version"), int64_t(version));
            writeFixtures(*c, version);
        }
        auto c = openAt(path, version + 1);
        QCOMPARE(c->queryInt("PRAGMA user_version"), int64_t(version + 1));
        verifyRaw(*c, version, version + 1);
        if (version + 1 == latestSchemaVersion())
            verifyFixtures(*c, version, version + 1);
        Statement fk(*c, "PRAGMA foreign_key_check");
        QVERIFY2(!fk.step(), "foreign key violations after the step");
    }

    void everyEarlierVersionUpgradesToTheLatest_data()
    {
        QTest::addColumn<int>("version");
        for (int v = 1; v < latestSchemaVersion(); ++v)
            QTest::newRow(qPrintable(QString("v%1").arg(v))) << v;
    }
    void everyEarlierVersionUpgradesToTheLatest()
    {
        QFETCH(int, version);
        QTemporaryDir dir;
        const std::string path = dir.filePath("store.db").toStdString();
        {
            auto c = openAt(path, version);
            writeFixtures(*c, version);
        }
        auto c = openStore(path);
        QCOMPARE(c->queryInt("PRAGMA user_version"), int64_t(latestSchemaVersion()));
        verifyRaw(*c, version, latestSchemaVersion());
        verifyFixtures(*c, version, latestSchemaVersion());
        Statement integrity(*c, "PRAGMA integrity_check");
        QVERIFY(integrity.step());
        QCOMPARE(QString::fromStdString(integrity.columnText(0)), QString("ok"));
        Statement fk(*c, "PRAGMA foreign_key_check");
        QVERIFY2(!fk.step(), "foreign key violations after the upgrade");
        // The upgraded store takes new rows through today's repositories.
        RunRecord r;
        r.name = "after upgrade";
        r.kind = "train";
        const int64_t id = RunRepository(*c).create(r);
        QVERIFY(RunRepository(*c).find(id));
    }

    void upgradedSchemaEqualsAFreshOne()
    {
        // The same tables and columns, whichever way a store reached the latest version.
        auto schemaOf = [](Connection &c) {
            std::string out;
            Statement st(c, "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk FROM sqlite_master m "
                            "JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid");
            while (st.step())
                for (int i = 0; i < 6; ++i)
                    out += st.columnText(i) + (i == 5 ? "\n" : "|");
            return out;
        };
        QTemporaryDir dir;
        auto fresh = openStore(dir.filePath("fresh.db").toStdString());
        const std::string want = schemaOf(*fresh);
        QVERIFY(want.find("runs|tokens_trained") != std::string::npos);
        for (int v = 1; v < latestSchemaVersion(); ++v) {
            const std::string path = dir.filePath(QString("v%1.db").arg(v)).toStdString();
            openAt(path, v).reset();
            auto up = openStore(path);
            QCOMPARE(QString::fromStdString(schemaOf(*up)), QString::fromStdString(want));
        }
    }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "tst_migrations.moc"
