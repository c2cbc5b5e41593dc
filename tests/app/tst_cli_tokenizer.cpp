// lathe-cli tokenize, template and bench tokenizer as a user runs them: ids against
// llama.cpp's reference vectors for real tokenizers, special tokens and BOS switched on
// and off, every output mode, chat templates rendered into hand-written expected text,
// and broken templates / conversations reported with exit code 1 and a message naming
// the file and the problem (never a crash).
#include "../tokenizer/VocabVectors.h"
#include "CliRunner.h"

#include <QtTest>

namespace {

using Result = lathe::test::CliResult;
using lathe::test::fixtureArg;
using lathe::test::runCli;

std::vector<int32_t> idsIn(const QByteArray &text)
{
    std::vector<int32_t> ids;
    for (const QByteArray &s : text.simplified().split(' '))
        if (!s.isEmpty())
            ids.push_back(s.toInt());
    return ids;
}

const char *kConversation = R"([
  {"role": "system", "content": "You are helpful."},
  {"role": "user", "content": "Hi!"},
  {"role": "assistant", "content": "Hello."},
  {"role": "user", "content": "2+2?"}
])";

} // namespace

class TestCliTokenizer : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_llamaSpm, m_qwen, m_conv;

    QString writeFile(const QString &name, const QByteArray &bytes)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
            qFatal("cannot write %s", qPrintable(path));
        return path;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_llamaSpm = fixtureArg("tokenizers/llama2-spm/ggml-vocab-llama-spm.gguf");
        m_qwen = fixtureArg("tokenizers/qwen/tokenizer.json");
        m_conv = writeFile("conv.json", kConversation);
    }

    void help_data()
    {
        QTest::addColumn<QStringList>("command");
        QTest::addColumn<QStringList>("mentions");
        QTest::newRow("tokenize") << QStringList{"tokenize"}
                                  << QStringList{"--model", "--tokenizer", "--text", "--file", "--no-special",
                                                 "--no-bos", "--pieces", "--count", "--json"};
        QTest::newRow("template") << QStringList{"template"}
                                  << QStringList{"--model", "--tokenizer-config", "--builtin", "--list-builtin",
                                                 "--add-generation-prompt", "--ids", "--template"};
        QTest::newRow("bench tokenizer") << QStringList{"bench", "tokenizer"}
                                         << QStringList{"--tokenizer", "--file", "--repeat", "MB/s"};
        QTest::newRow("bench") << QStringList{"bench"} << QStringList{"MODEL", "--prompt", "bench tokenizer"};
    }
    void help()
    {
        QFETCH(QStringList, command);
        QFETCH(QStringList, mentions);
        const Result r = runCli(command + QStringList{"--help"});
        QCOMPARE(r.code, 0);
        const QString &out = r.out;
        QVERIFY2(out.startsWith("Usage: lathe-cli " + command.join(' ')), qPrintable(out));
        for (const QString &m : mentions)
            QVERIFY2(out.contains(m), qPrintable(command.join(' ') + " --help lacks " + m));
    }

    // Every llama.cpp test vector of two GGUF vocabularies (SentencePiece and byte-level
    // BPE), one process per text, as a user would run it.
    void vectors_data()
    {
        QTest::addColumn<QString>("tokenizer");
        QTest::addColumn<QString>("inp");
        QTest::addColumn<QString>("out");
        QTest::addColumn<int>("step");
        QTest::newRow("llama-spm gguf") << m_llamaSpm << m_llamaSpm + ".inp" << m_llamaSpm + ".out" << 1;
        const QString gpt2 = fixtureArg("tokenizers/gpt2/ggml-vocab-gpt-2.gguf");
        QTest::newRow("gpt-2 gguf") << gpt2 << gpt2 + ".inp" << gpt2 + ".out" << 1;
        // tokenizer.json takes a moment to load: every fifth case is enough here (the
        // engine's own tests run them all).
        QTest::newRow("qwen tokenizer.json") << m_qwen << fixtureArg("tokenizers/qwen/ggml-vocab-qwen2.gguf.inp")
                                             << fixtureArg("tokenizers/qwen/ggml-vocab-qwen2.gguf.out") << 5;
    }
    void vectors()
    {
        QFETCH(QString, tokenizer);
        QFETCH(QString, inp);
        QFETCH(QString, out);
        QFETCH(int, step);
        const auto cases = lathe::test::readVocabVectors(inp.toStdString(), out.toStdString());
        QVERIFY(cases.size() >= 40);
        for (size_t i = 0; i < cases.size(); i += size_t(step)) {
            const QString text = writeFile("case.txt", QByteArray::fromStdString(cases[i].text));
            const Result r = runCli({"tokenize", "--tokenizer", tokenizer, "--file", text, "--no-bos"});
            QVERIFY2(r.code == 0 && !r.crashed, qPrintable(r.err));
            QVERIFY2(idsIn(r.outBytes) == cases[i].ids,
                     qPrintable(QStringLiteral("case %1 '%2': got %3, expected %4")
                                    .arg(i)
                                    .arg(QString::fromStdString(cases[i].text))
                                    .arg(QString::fromUtf8(r.outBytes.trimmed()))
                                    .arg(lathe::test::idsToString(cases[i].ids))));
        }
    }

    void bosAndSpecialTokens()
    {
        // llama.cpp's vectors: "Hello world" -> 15043 3186; the GGUF adds BOS (1) itself.
        Result r = runCli({"tokenize", "--model", m_llamaSpm, "--text", "Hello world"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(idsIn(r.outBytes), (std::vector<int32_t>{1, 15043, 3186}));
        r = runCli({"tokenize", "--model", m_llamaSpm, "--text", "Hello world", "--no-bos"});
        QCOMPARE(idsIn(r.outBytes), (std::vector<int32_t>{15043, 3186}));
        // Standard input, byte for byte.
        r = runCli({"tokenize", "--model", m_llamaSpm, "--no-bos"}, lathe::test::withInput("Hello world"));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(idsIn(r.outBytes), (std::vector<int32_t>{15043, 3186}));

        // <|im_start|> is Qwen's added special token 151644 (tokenizer.json added_tokens);
        // " world" is 1879 in the qwen2 vectors (" Hello world" -> 21927 1879).
        r = runCli({"tokenize", "--tokenizer", m_qwen, "--text", "<|im_start|> world"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(idsIn(r.outBytes), (std::vector<int32_t>{151644, 1879}));
        // --no-special: the same text as plain characters; the pieces spell it out again.
        r = runCli({"tokenize", "--tokenizer", m_qwen, "--text", "<|im_start|> world", "--no-special", "--pieces"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QString joined;
        int lines = 0;
        for (const QByteArray &line : r.outBytes.split('\n')) {
            if (line.isEmpty())
                continue;
            const QList<QByteArray> cols = line.split('\t');
            QCOMPARE(cols.size(), qsizetype(2));
            QVERIFY(cols[0].toInt() != 151644);
            joined += QString::fromUtf8(cols[1]);
            ++lines;
        }
        QCOMPARE(joined, QStringLiteral("<|im_start|> world"));
        QVERIFY(lines > 2);
    }

    void outputModes()
    {
        // --pieces escapes control bytes: "\n" is the qwen2 vectors' 198.
        Result r = runCli({"tokenize", "--model", m_llamaSpm, "--text", "Hello world", "--pieces"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.outBytes, QByteArray("1\t<s>\n15043\t Hello\n3186\t world\n"));
        r = runCli({"tokenize", "--tokenizer", m_qwen, "--text", "\n", "--pieces"});
        QCOMPARE(r.outBytes, QByteArray("198\t\\n\n"));
        // --count: 2 tokens for 11 bytes / 11 characters.
        r = runCli({"tokenize", "--model", m_llamaSpm, "--text", "Hello world", "--no-bos", "--count"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.outBytes.startsWith("2 tokens (11 bytes, 11 characters; 5.500 bytes/token, 5.500 characters/token)"),
                 r.outBytes.constData());
        // --json: "½" is 2 bytes, 1 character.
        r = runCli({"tokenize", "--model", m_llamaSpm, "--text", "Hello world \xC2\xBD", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const nlohmann::json j = nlohmann::json::parse(r.outBytes.toStdString());
        const auto ids = j["ids"].get<std::vector<int32_t>>();
        QVERIFY(ids.size() >= 4);
        QCOMPARE(std::vector<int32_t>(ids.begin(), ids.begin() + 3), (std::vector<int32_t>{1, 15043, 3186}));
        QCOMPARE(j["count"].get<size_t>(), ids.size());
        QCOMPARE(j["pieces"].size(), ids.size());
        QCOMPARE(j["pieces"][1].get<std::string>(), std::string(" Hello"));
        QCOMPARE(j["tokens"][1].get<std::string>(), std::string("\xE2\x96\x81Hello"));
        QCOMPARE(j["bytes"].get<int>(), 14);
        QCOMPARE(j["chars"].get<int>(), 13);
        // Exactly one output mode.
        r = runCli({"tokenize", "--model", m_llamaSpm, "--text", "x", "--json", "--count"});
        QCOMPARE(r.code, 2);
        r = runCli({"tokenize", "--text", "x"});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("--tokenizer"));
    }

    void templateBuiltin()
    {
        // ChatML as Qwen and OpenAI document it.
        Result r = runCli({"template", m_conv, "--builtin", "chatml", "--add-generation-prompt"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.outBytes, QByteArray("<|im_start|>system\nYou are helpful.<|im_end|>\n"
                                   "<|im_start|>user\nHi!<|im_end|>\n"
                                   "<|im_start|>assistant\nHello.<|im_end|>\n"
                                   "<|im_start|>user\n2+2?<|im_end|>\n"
                                   "<|im_start|>assistant\n"));
        // Llama 2's published format, with <s> and </s> from the GGUF vocabulary, and the
        // object form of the conversation file.
        const QString obj = writeFile("conv-object.json", QByteArray("{\"add_generation_prompt\": false, \"messages\": ") +
                                                              kConversation + "}");
        r = runCli({"template", obj, "--builtin", "llama2", "--model", m_llamaSpm});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.outBytes, QByteArray("<s>[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi! [/INST] Hello. </s>"
                                   "<s>[INST] 2+2? [/INST]"));
        r = runCli({"template", "--list-builtin"});
        QCOMPARE(r.code, 0);
        for (const char *name : {"chatml", "llama2", "llama3", "mistral", "zephyr", "alpaca"})
            QVERIFY2(r.outBytes.split('\n').contains(name), name);
    }

    void templateFromTokenizerConfig()
    {
        // Llama 3's own template from its tokenizer_config.json, with bos_token from there.
        Result r = runCli({"template", m_conv, "--tokenizer-config",
                           fixtureArg("tokenizers/llama3/tokenizer_config.json"), "--add-generation-prompt"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.outBytes, QByteArray("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                                   "You are helpful.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                                   "Hi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
                                   "Hello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                                   "2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
        // --ids with Qwen's tokenizer: <|im_start|> 151644 opens each of the 4 turns and
        // the generation prompt, each <|im_end|> 151645 is followed by "\n" (198).
        r = runCli({"template", m_conv, "--builtin", "chatml", "--tokenizer", m_qwen, "--add-generation-prompt",
                    "--ids"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QList<QByteArray> lines = r.outBytes.trimmed().split('\n');
        QVERIFY(lines.size() >= 3);
        QVERIFY2(lines[lines.size() - 2].startsWith("--- "), r.outBytes.constData());
        const std::vector<int32_t> ids = idsIn(lines.back());
        QCOMPARE(lines[lines.size() - 2], "--- " + QByteArray::number(qsizetype(ids.size())) + " tokens");
        QCOMPARE(ids.front(), 151644);
        QCOMPARE(int(std::count(ids.begin(), ids.end(), 151644)), 5);
        QCOMPARE(int(std::count(ids.begin(), ids.end(), 151645)), 4);
        for (size_t i = 0; i + 1 < ids.size(); ++i)
            if (ids[i] == 151645)
                QCOMPARE(ids[i + 1], 198);
    }

    void templateErrors_data()
    {
        QTest::addColumn<QByteArray>("templateText");
        QTest::addColumn<QByteArray>("conversation");
        QTest::addColumn<QStringList>("mentions");
        QTest::newRow("unknown filter") << QByteArray("line one\n{% for m in messages %}{{ m.content | frobnicate }}"
                                                      "{% endfor %}")
                                        << QByteArray(kConversation)
                                        << QStringList{"bad.jinja", "line 2", "frobnicate"};
        QTest::newRow("unclosed if") << QByteArray("{% if messages %}\n{{ messages[0].content }}")
                                     << QByteArray(kConversation) << QStringList{"bad.jinja", "endif"};
        QTest::newRow("raise_exception") << QByteArray("\n\n{{ raise_exception('only user turns, please') }}")
                                         << QByteArray(kConversation)
                                         << QStringList{"bad.jinja", "line 3", "only user turns, please"};
        const QByteArray fine = "{% for m in messages %}{{ m.content }}{% endfor %}";
        QTest::newRow("invalid JSON") << fine << QByteArray("[{\"role\": \"user\", \"content\": \"hi\"},\n]")
                                      << QStringList{"conv-bad.json", "not valid JSON", "line 2"};
        QTest::newRow("no role") << fine << QByteArray("[{\"role\": \"user\", \"content\": \"a\"}, {\"content\": \"b\"}]")
                                 << QStringList{"conv-bad.json", "messages[1]", "role"};
        QTest::newRow("no messages") << fine << QByteArray("{\"mesages\": []}")
                                     << QStringList{"conv-bad.json", "messages"};
        QTest::newRow("bad content") << fine << QByteArray("[{\"role\": \"user\", \"content\": 42}]")
                                     << QStringList{"conv-bad.json", "messages[0]", "content"};
    }
    void templateErrors()
    {
        QFETCH(QByteArray, templateText);
        QFETCH(QByteArray, conversation);
        QFETCH(QStringList, mentions);
        const QString tpl = writeFile("bad.jinja", templateText);
        const QString conv = writeFile("conv-bad.json", conversation);
        const Result r = runCli({"template", conv, "--template", tpl});
        QVERIFY(!r.crashed);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.startsWith("error: "), qPrintable(r.err));
        for (const QString &m : mentions)
            QVERIFY2(r.err.contains(m), qPrintable(r.err + " lacks " + m));
        QVERIFY(r.outBytes.isEmpty()); // never partial text
    }

    void otherErrors()
    {
        // The built-in Llama 2 template refuses two user turns in a row (raise_exception).
        const QString twoUsers = writeFile("two-users.json", R"([{"role":"user","content":"a"},{"role":"user","content":"b"}])");
        Result r = runCli({"template", twoUsers, "--builtin", "llama2"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("builtin llama2") && r.err.contains("alternate"), qPrintable(r.err));
        r = runCli({"template", m_conv, "--builtin", "nope"});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("chatml")); // lists the known names
        r = runCli({"template", m_conv, "--model", fixtureArg("tokenizers/gpt2/ggml-vocab-gpt-2.gguf")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("tokenizer.chat_template"), qPrintable(r.err));
        r = runCli({"template", m_dir.filePath("missing.json"), "--builtin", "chatml"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("missing.json"));
        r = runCli({"tokenize", "--tokenizer", m_dir.filePath("nope.json"), "--text", "x"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("nope.json"));
        const QString broken = writeFile("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": 3}}");
        r = runCli({"tokenize", "--tokenizer", broken, "--text", "x"});
        QVERIFY(!r.crashed);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("tokenizer.json"), qPrintable(r.err));
    }

    void benchTokenizer()
    {
        // A small text keeps this quick; the figures themselves are not asserted.
        QByteArray text;
        for (int i = 0; i < 200; ++i)
            text += "Once upon a time, in a land far away, there lived " + QByteArray::number(i) + " small dragons.\n";
        const QString file = writeFile("bench.txt", text);
        const Result r = runCli({"bench", "tokenizer", "--tokenizer", m_llamaSpm, "--tokenizer",
                                 fixtureArg("tokenizers/gpt2/ggml-vocab-gpt-2.gguf"), "--file", file, "--repeat", "2"});
        QVERIFY2(r.code == 0 && !r.crashed, qPrintable(r.err));
        const QString &out = r.out;
        QCOMPARE(out.count("encode: best "), 2);
        for (const char *s : {"MB/s", "tokens/s", "tokens/byte", "1 thread", "median"})
            QVERIFY2(out.contains(s), s);
        QCOMPARE(out.count("round trip: decode(encode(text)) == text"), 2);
        const Result bad = runCli({"bench", "tokenizer", "--file", file, "--tokenizer", m_dir.filePath("none.model")});
        QCOMPARE(bad.code, 1);
        QVERIFY(bad.err.contains("none.model"));
    }
};

QTEST_GUILESS_MAIN(TestCliTokenizer)
#include "tst_cli_tokenizer.moc"
