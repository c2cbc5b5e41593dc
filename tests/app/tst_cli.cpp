// lathe-cli as a user runs it: every subcommand's --help, exit code 2 with a message for
// bad arguments, exit code 1 with "error: ..." for engine errors (never a crash), an
// init -> info -> generate round trip, generate on the real stories260K model against
// llama2.c's greedy continuation (an independent reference), and the quick demo.
#include "CliRunner.h"

#include <QtTest>
#include <cmath>

namespace {

using Result = lathe::test::CliResult;
using lathe::test::fixtureArg;
using lathe::test::runCli;

std::vector<int> idsIn(const QString &line)
{
    std::vector<int> ids;
    for (const QString &s : line.split(QLatin1Char(' '), Qt::SkipEmptyParts))
        ids.push_back(s.toInt());
    return ids;
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_gguf, m_hf;

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_gguf = m_dir.filePath("tiny.gguf");
        m_hf = m_dir.filePath("tiny-hf");
        // std 0.3 keeps the top two logits of the random model well apart, so greedy
        // choices do not hinge on rounding differences between the two files.
        const Result r = runCli({"init", "--arch", "llama", "--seed", "5", "--std", "0.3", "--out-gguf", m_gguf,
                                 "--out-hf", m_hf});
        QVERIFY2(r.code == 0 && !r.crashed, qPrintable(r.err));
        QVERIFY(r.out.contains("wrote GGUF"));
    }

    void help_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QStringList>("mentions");
        QTest::newRow("info") << "info" << QStringList{"--preset", "--ctx", "MODEL"};
        QTest::newRow("init") << "init" << QStringList{"--arch", "--preset", "--out-gguf", "--out-hf", "--dtype",
                                                       "--hf-dtype", "--seed", "--kv-heads", "--tied"};
        QTest::newRow("generate") << "generate" << QStringList{"--prompt", "--prompt-ids", "--max-tokens", "--temp",
                                                               "--top-k", "--top-p", "--min-p", "--repeat-penalty",
                                                               "--seed", "--stop", "--threads", "--ctx"};
        // The protocol text comes from engine/eval/Perplexity.h.
        QTest::newRow("perplexity") << "perplexity" << QStringList{"--file", "--ids", "--ctx", "second half",
                                                                   "non-overlapping windows"};
        QTest::newRow("bench") << "bench" << QStringList{"--prompt", "--gen", "--threads", "--repeat"};
        QTest::newRow("demo") << "demo" << QStringList{"--dir", "--fresh", "--steps", "--quick", "--threads"};
    }
    void help()
    {
        QFETCH(QString, command);
        QFETCH(QStringList, mentions);
        const Result r = runCli({command, "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith("Usage: lathe-cli " + command));
        for (const QString &m : mentions)
            QVERIFY2(r.out.contains(m), qPrintable(command + " --help lacks " + m));
        QVERIFY(r.out.contains("--log-level"));
    }

    void badArguments_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("no command") << QStringList{} << "Usage:";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << "unknown command 'frobnicate'";
        QTest::newRow("unknown option") << QStringList{"init", "--bogus"} << "unknown option --bogus";
        QTest::newRow("missing value") << QStringList{"init", "--arch"} << "--arch needs a value";
        QTest::newRow("no output") << QStringList{"init", "--arch", "llama"} << "--out-gguf";
        QTest::newRow("bad arch") << QStringList{"init", "--arch", "gpt5", "--out-gguf", "x"} << "gpt5";
        QTest::newRow("bad dtype") << QStringList{"init", "--arch", "llama", "--dtype", "q3", "--out-gguf", "x"}
                                   << "--dtype";
        QTest::newRow("bad heads") << QStringList{"init", "--arch", "llama", "--kv-heads", "3", "--out-gguf", "x"}
                                   << "n_heads";
        QTest::newRow("missing model") << QStringList{"generate", "--prompt-ids", "1"} << "missing MODEL";
        QTest::newRow("no prompt") << QStringList{"generate", "m.gguf"} << "--prompt";
        QTest::newRow("bad ids") << QStringList{"generate", "m.gguf", "--prompt-ids", "1 x"} << "not a token id";
        QTest::newRow("bad number") << QStringList{"bench", "m.gguf", "--prompt", "abc"} << "--prompt expects";
        QTest::newRow("bad temp") << QStringList{"generate", "m", "--prompt-ids", "1", "--temp", "-1"} << "--temp";
        QTest::newRow("bad log level") << QStringList{"info", "--log-level", "loud", "m"} << "loud";
        QTest::newRow("both ppl inputs") << QStringList{"perplexity", "m", "--file", "a", "--ids", "b"} << "exactly one";
    }
    void badArguments()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const Result r = runCli(args);
        QVERIFY(!r.crashed);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
    }

    void invalidModel()
    {
        const QString bad = m_dir.filePath("broken.gguf");
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("GGUF\x03\0\0\0\xff\xff\xff\xff\xff\xff\xff\x7f garbage", 24); // absurd tensor count
        f.close();
        for (const QStringList &args : {QStringList{"info", bad}, QStringList{"generate", bad, "--prompt-ids", "1"},
                                        QStringList{"bench", bad},
                                        QStringList{"info", m_dir.filePath("does-not-exist.gguf")}}) {
            const Result r = runCli(args);
            QVERIFY(!r.crashed);
            QCOMPARE(r.code, 1);
            QVERIFY2(r.err.startsWith("error: "), qPrintable(r.err));
            QVERIFY2(r.err.contains(args[1]), qPrintable(r.err)); // names the file
        }
        // An id outside the vocabulary is the user's mistake, reported before any work.
        const Result r = runCli({"generate", m_gguf, "--prompt-ids", "1 512"});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("512"));
    }

    void initInfoGenerate()
    {
        // tiny-llama by hand: embedding and head 2 x 512 x 128, final norm 128, and per
        // layer q 128x128, k and v 64x128, o 128x128, three 256x128 FFN matrices and two
        // norms of 128: 131072 + 128 + 2 x 147712 = 426624.
        for (const QString &model : {m_gguf, m_hf}) {
            const Result r = runCli({"info", model});
            QVERIFY2(r.code == 0, qPrintable(r.err));
            QVERIFY(r.out.contains(model.endsWith(".gguf") ? "format:            gguf" : "format:            hf"));
            QVERIFY(r.out.contains("parameters:        426624 "));
            QVERIFY(r.out.contains("n_kv_heads:        2"));
            QVERIFY(r.out.contains("kv_bytes_per_token: 1024 (f32)")); // 2 (k,v) x 2 layers x 64 x 4 bytes
            QVERIFY(r.out.contains("estimated_memory:"));
        }
        std::vector<int> first;
        for (const QString &model : {m_gguf, m_hf}) {
            const Result r = runCli({"generate", model, "--prompt-ids", "1 2 3", "--temp", "0", "--max-tokens", "8",
                                     "--print-ids", "--ignore-eos", "--threads", "2"});
            QVERIFY2(r.code == 0, qPrintable(r.err));
            const std::vector<int> ids = idsIn(r.out.trimmed());
            QCOMPARE(ids.size(), size_t(8));
            for (int id : ids)
                QVERIFY(id >= 0 && id < 512);
            if (first.empty())
                first = ids;
            else
                QVERIFY(ids == first); // same weights in both files, same greedy path
        }
        const Result preset = runCli({"info", "--preset", "llama3-8b-shape", "--dtype", "q4_0"});
        QCOMPARE(preset.code, 0);
        QVERIFY(preset.out.contains("parameters:        8030261248 ")); // Llama 3 8B's published count
    }

    void initOptions()
    {
        // A sharded BF16 HF folder of tiny-qwen3 loads back with the preset's shape.
        const QString hf = m_dir.filePath("qwen3-sharded");
        Result r = runCli({"init", "--preset", "tiny-qwen3", "--out-hf", hf, "--hf-dtype", "bf16", "--shard-size",
                           "200K"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(QFile::exists(hf + "/model.safetensors.index.json"));
        // 1.2 MB of BF16 tensors in shards of at most 200 KB (or one tensor above it).
        QVERIFY(QDir(hf).entryList({"model-000*-of-000*.safetensors"}).size() >= 6);
        r = runCli({"info", hf});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("architecture:      qwen3"));
        QVERIFY(r.out.contains("head_dim:          64"));
        QVERIFY(r.out.contains("BF16"));
        // Q4_K on 128-wide rows falls back as llama.cpp does, and says so.
        r = runCli({"init", "--arch", "qwen2", "--dtype", "q4_k", "--out-gguf", m_dir.filePath("q.gguf")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("written as Q5_0"));
        // --tokenizer-from: the random model speaks stories260K's vocabulary.
        const QString tok = m_dir.filePath("tok.gguf");
        r = runCli({"init", "--arch", "llama", "--tokenizer-from",
                    fixtureArg("models/stories260K/stories260Ktok512.gguf"), "--out-gguf", tok});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = runCli({"generate", tok, "--prompt", "Once upon a time", "--max-tokens", "5", "--seed", "3"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.startsWith("Once upon a time"));
    }

    void storiesGreedy()
    {
        const nlohmann::json ref =
            lathe::test::readJson(lathe::test::fixture("models/stories260K/reference_greedy.json"));
        const std::vector<int> all = ref["greedy_ids_from_bos"].get<std::vector<int>>();
        const Result r = runCli({"generate", fixtureArg("models/stories260K/stories260Ktok512.gguf"), "--prompt-ids",
                                 "1", "--temp", "0", "--max-tokens", "20", "--print-ids"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(idsIn(r.out.trimmed()), std::vector<int>(all.begin() + 1, all.begin() + 21));
    }

    void storiesText()
    {
        // The text path: the prompt is tokenized with the GGUF's own vocabulary, and the
        // greedy continuation must read as llama2.c's (reference_greedy.json "decoded",
        // whose first words are exactly this prompt).
        const nlohmann::json ref =
            lathe::test::readJson(lathe::test::fixture("models/stories260K/reference_greedy.json"));
        const QString decoded = QString::fromStdString(ref["decoded"].get<std::string>());
        const Result r = runCli({"generate", fixtureArg("models/stories260K/stories260Ktok512.gguf"), "--prompt",
                                 "Once upon a time", "--temp", "0", "--max-tokens", "30"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QString text = r.out.chopped(1); // the final newline
        QVERIFY(text.size() > 60);
        QVERIFY2(decoded.startsWith(text), qPrintable(text));
        // --stop drops the token in which the stop string begins (here "▁Lily", so the
        // space before the name goes too) and everything after it.
        const Result s = runCli({"generate", fixtureArg("models/stories260K/stories260Ktok512.gguf"), "--prompt",
                                 "Once upon a time", "--temp", "0", "--max-tokens", "30", "--stop", "Lily"});
        QVERIFY2(s.code == 0, qPrintable(s.err));
        QCOMPARE(s.out.chopped(1), decoded.left(decoded.indexOf("Lily")).trimmed());
    }

    void perplexityRuns()
    {
        // The greedy continuation is the model's own most likely text: its perplexity is
        // low but above 1 (exactly 1 would mean the scoring is broken).
        const nlohmann::json ref =
            lathe::test::readJson(lathe::test::fixture("models/stories260K/reference_greedy.json"));
        QString ids;
        for (int id : ref["greedy_ids_from_bos"].get<std::vector<int>>())
            ids += QString::number(id) + " ";
        const QString idsFile = m_dir.filePath("ids.txt");
        QFile f(idsFile);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(ids.toUtf8());
        f.close();
        const Result r = runCli({"perplexity", fixtureArg("models/stories260K/stories260Ktok512.gguf"), "--ids",
                                 idsFile, "--ctx", "64"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const qsizetype at = r.out.indexOf("ppl = ");
        QVERIFY(at >= 0);
        const double ppl = r.out.mid(at + 6).section(QLatin1Char(','), 0, 0).toDouble();
        QVERIFY2(ppl > 1.0 && ppl < 3.0, qPrintable(r.out));
        QVERIFY(r.out.contains("4 windows")); // 256 ids / 64
    }

    void bench()
    {
        const Result b = runCli({"bench", m_gguf, "--prompt", "16", "--gen", "4", "--repeat", "1"});
        QVERIFY2(b.code == 0, qPrintable(b.err));
        for (const char *s : {"prefill:", "decode:", "tokens/s", "matmul ISA", "threads", "GB/s", "weights read:"})
            QVERIFY2(b.out.contains(s), s);
    }

    // The demo end to end in its quick form: a random byte-level model, fully fine-tuned
    // through the job queue on the built-in corpus. A model with small random weights
    // predicts close to uniformly, so its validation loss starts near ln(260) = 5.56 (the
    // reference, computed by hand); training must bring it well below that.
    void demo()
    {
        const QString dir = m_dir.filePath("demo");
        const Result d = runCli({"demo", "--quick", "--dir", dir, "--threads", "2"});
        QVERIFY2(d.code == 0 && !d.crashed, qPrintable(d.err + d.out));
        for (const char *s : {"[1/5]", "[2/5] before training", "[3/5]", "[4/5] after training", "[5/5]", "tok/s",
                              "peak memory", "AdamW moments", "cost", "demo wall time"})
            QVERIFY2(d.out.contains(QLatin1String(s)), s);
        QVERIFY(QFile::exists(dir + "/demo-llama-byte.gguf"));
        QVERIFY(QFile::exists(dir + "/demo-train.json"));
        const QRegularExpression lossRe(QStringLiteral("validation loss +([0-9.]+) -> ([0-9.]+)"));
        const QRegularExpressionMatch m = lossRe.match(d.out);
        QVERIFY2(m.hasMatch(), qPrintable(d.out));
        const double before = m.captured(1).toDouble(), after = m.captured(2).toDouble();
        QVERIFY2(std::abs(before - std::log(260.0)) < 0.3, qPrintable(m.captured(0)));
        QVERIFY2(after < before - 1.0, qPrintable(m.captured(0)));

        // The run is in the demo's own store, completed and charged.
        const Result runs = runCli({"runs", "list", "--db", dir + "/lathe.db"});
        QVERIFY2(runs.code == 0, qPrintable(runs.err));
        QVERIFY2(runs.out.contains("demo-train") && runs.out.contains("completed") && runs.out.contains("$"),
                 qPrintable(runs.out));

        // A second run reuses the trained model and shows the same figures again.
        const Result again = runCli({"demo", "--quick", "--dir", dir, "--threads", "2"});
        QVERIFY2(again.code == 0, qPrintable(again.err + again.out));
        QVERIFY2(again.out.contains("already trained"), qPrintable(again.out));
        QVERIFY(again.out.contains("[4/5] after training"));
        QCOMPARE(lossRe.match(again.out).captured(0), m.captured(0));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
