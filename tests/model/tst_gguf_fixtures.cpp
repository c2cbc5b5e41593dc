// GgufFile and loadGgufModel on the real GGUF fixtures. The references are independent
// of our reader: golden/*/tensor_types/*.txt (written by llama.cpp's gguf-py from the
// same files: every key, every tensor's type, ggml ne and bytes), the fixture READMEs'
// model descriptions, and the stories260K llama2.c checkpoint (same weights, raw f32).
#include "Fixtures.h"
#include "core/Error.h"
#include "model/LoadedModel.h"
#include "model/gguf/GgufFile.h"

#include <QtTest>
#include <cstring>
#include <filesystem>
#include <regex>

using namespace lathe;
namespace fs = std::filesystem;

namespace {

struct TxtTensor
{
    std::string name, type;
    std::vector<int64_t> ne;
    size_t bytes = 0;
};

struct TxtDump
{
    std::vector<std::pair<std::string, std::string>> metadata;
    std::vector<TxtTensor> tensors;
};

TxtDump parseDump(const std::string &path)
{
    TxtDump d;
    std::istringstream in(lathe::test::readText(path));
    std::string line;
    bool inTensors = false;
    const std::regex tensorLine(R"(^(\S+)\s+(\S+)\s+\[([0-9, ]*)\]\s+(\d+)\s*$)");
    while (std::getline(in, line)) {
        if (line.rfind("tensor ", 0) == 0 && line.find("type") != std::string::npos) {
            inTensors = true;
            continue;
        }
        if (line.empty())
            continue;
        if (!inTensors) {
            const size_t eq = line.find(" = ");
            if (eq == std::string::npos)
                throw std::runtime_error("bad metadata line in " + path + ": " + line);
            d.metadata.emplace_back(line.substr(0, eq), line.substr(eq + 3));
            continue;
        }
        std::smatch m;
        if (!std::regex_match(line, m, tensorLine))
            throw std::runtime_error("bad tensor line in " + path + ": " + line);
        TxtTensor t{m[1], m[2], {}, size_t(std::stoull(m[4]))};
        std::istringstream dims(m[3].str());
        std::string dim;
        while (std::getline(dims, dim, ','))
            t.ne.push_back(std::stoll(dim));
        d.tensors.push_back(t);
    }
    return d;
}

// The txt prints values as Python does: ints, repr() of floats, True/False, raw strings.
QString checkValue(const GgufFile &f, const std::string &key, const std::string &text)
{
    const GgufValue *v = f.find(key);
    if (!v)
        return "missing";
    std::string got;
    switch (v->type) {
    case GgufType::Array: got = "<array of " + std::to_string(v->arrayLength) + ">"; break;
    case GgufType::String: got = v->s; break;
    case GgufType::Bool: got = v->b ? "True" : "False"; break;
    case GgufType::F32:
    case GgufType::F64: // exact: the repr of a double parses back to the same double
        return std::stod(text) == v->f ? QString() : QString::number(v->f, 'g', 17);
    case GgufType::U8: case GgufType::U16: case GgufType::U32: case GgufType::U64:
        got = std::to_string(v->u);
        break;
    default: got = std::to_string(v->i); break;
    }
    return got == text ? QString() : QString::fromStdString(got);
}

std::vector<std::string> goldenModels()
{
    std::vector<std::string> out;
    for (const auto &dir : fs::directory_iterator(lathe::test::fixture("golden")))
        if (fs::is_directory(dir.path() / "models"))
            for (const auto &f : fs::directory_iterator(dir.path() / "models"))
                if (f.path().extension() == ".gguf")
                    out.push_back(f.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

class TestGgufFixtures : public QObject
{
    Q_OBJECT
private slots:
    void matchesTensorTypeDumps_data()
    {
        QTest::addColumn<QString>("gguf");
        QTest::addColumn<QString>("dump");
        for (const std::string &path : goldenModels()) {
            const fs::path p(path);
            const std::string model = p.parent_path().parent_path().filename().string();
            const std::string type = p.stem().string().substr(model.size() + 1); // "<model>-<TYPE>"
            const fs::path dump = p.parent_path().parent_path() / "tensor_types" / (type + ".txt");
            QTest::newRow(p.filename().c_str()) << QString::fromStdString(path) << QString::fromStdString(dump);
        }
    }
    void matchesTensorTypeDumps()
    {
        QFETCH(QString, gguf);
        QFETCH(QString, dump);
        QVERIFY2(fs::exists(dump.toStdString()), qPrintable(dump));
        const TxtDump ref = parseDump(dump.toStdString());
        const auto f = GgufFile::open(gguf.toStdString());
        QCOMPARE(f->version(), 3u);
        QVERIFY(!ref.metadata.empty());
        QCOMPARE(f->keys().size(), ref.metadata.size()); // the dump lists every key
        for (const auto &[key, text] : ref.metadata) {
            const QString diff = checkValue(*f, key, text);
            QVERIFY2(diff.isEmpty(), qPrintable(QString::fromStdString(key + " expected " + text + ", got ") + diff));
        }
        QCOMPARE(f->tensors().size(), ref.tensors.size());
        for (size_t i = 0; i < ref.tensors.size(); ++i) {
            const TxtTensor &r = ref.tensors[i];
            const TensorView &t = f->tensors()[i]; // the dump lists tensors in file order
            QCOMPARE(t.name, r.name);
            QCOMPARE(std::string(dtypeName(t.dtype)), r.type);
            QCOMPARE(t.shape, std::vector<int64_t>(r.ne.rbegin(), r.ne.rend()));
            QCOMPARE(t.bytes, r.bytes);
            QCOMPARE(f->tensor(r.name), &t);
        }
    }
    void everyGoldenModelIsFound() { QCOMPARE(goldenModels().size(), size_t(16)); }

    void loadsConfigs_data()
    {
        QTest::addColumn<QString>("path");
        for (const std::string &path : goldenModels())
            QTest::newRow(fs::path(path).filename().c_str()) << QString::fromStdString(path);
        QTest::newRow("stories260Ktok512")
            << QString::fromStdString(lathe::test::fixture("models/stories260K/stories260Ktok512.gguf"));
    }
    void loadsConfigs()
    {
        QFETCH(QString, path);
        const LoadedModel m = loadGgufModel(path.toStdString());
        const ModelConfig &c = m.config;
        QCOMPARE(m.format, ModelFormat::Gguf);
        QVERIFY(m.gguf);
        QCOMPARE(m.weights.count(), m.gguf->tensors().size());
        QCOMPARE(c.arch, path.contains("qwen2") ? std::string("qwen2") : std::string("llama"));
        if (path.contains("stories260K")) { // fixtures/README.md
            QCOMPARE(c.dim, 64);
            QCOMPARE(c.nLayers, 5);
            QCOMPARE(c.nHeads, 8);
            QCOMPARE(c.nKvHeads, 4);
            QCOMPARE(c.headDim, 8);
            QCOMPARE(c.ffnDim, 172);
            QCOMPARE(c.vocabSize, 512);
            // The model is tied, but llama.cpp's llama2c converter writes the shared
            // matrix twice (output.weight is a copy, see stories260KDataMatchesCheckpoint),
            // and a GGUF with output.weight is untied by definition.
            QVERIFY(!c.tiedEmbeddings);
            QCOMPARE(c.ropeTheta, 10000.0f);
            QCOMPARE(c.normEps, 1e-5f);
            QCOMPARE(c.ropeLayout, RopeLayout::Interleaved);
            QCOMPARE(c.bosId, 1);
            QCOMPARE(c.eosId, 2);
            QCOMPARE(c.stopIds, std::vector<int>{2});
        } else if (path.contains("random_llama_d256")) { // golden/README.md
            QCOMPARE(c.dim, 256);
            QCOMPARE(c.nLayers, 4);
            QCOMPARE(c.nHeads, 8);
            QCOMPARE(c.nKvHeads, 2);
            QCOMPARE(c.ffnDim, 768);
            QCOMPARE(c.vocabSize, 512);
            QVERIFY(!c.tiedEmbeddings);
            QCOMPARE(c.contextLength, 128);
        } else if (path.contains("random_qwen2_d128")) {
            QCOMPARE(c.dim, 128);
            QCOMPARE(c.nLayers, 2);
            QCOMPARE(c.nHeads, 4);
            QCOMPARE(c.nKvHeads, 2);
            QCOMPARE(c.ffnDim, 384);
            QCOMPARE(c.vocabSize, 1024);
            QVERIFY(c.qkvBias);
            QVERIFY(!c.tiedEmbeddings);
            QCOMPARE(c.ropeLayout, RopeLayout::RotateHalf);
            QCOMPARE(c.ropeTheta, 1e6f);
            QCOMPARE(c.normEps, 1e-6f);
            QCOMPARE(c.ropeDim, 32);
            QCOMPARE(c.contextLength, 2048);
        } else if (path.contains("random_llama3style_d128")) {
            QCOMPARE(c.dim, 128);
            QCOMPARE(c.nLayers, 2);
            QCOMPARE(c.vocabSize, 1024);
            QVERIFY(!c.tiedEmbeddings);
            QCOMPARE(c.ropeTheta, 500000.0f);
            QCOMPARE(c.bosId, 1021);
            QCOMPARE(c.eosId, 1022);
            QCOMPARE(c.ropeLayout, RopeLayout::Interleaved);
        } else {
            QFAIL("a fixture model without expectations");
        }
    }

    // The tensor data, not just the infos: token_embd and the attention norms of the
    // F32 GGUF equal the llama2.c checkpoint's floats bit for bit (the converter copies
    // them unpermuted). Layout of run.c: 7 int32 header, token table [V, C], rms_att [L, C].
    void stories260KDataMatchesCheckpoint()
    {
        const std::string bin = lathe::test::readText(lathe::test::fixture("models/stories260K/stories260K.bin"));
        const auto f = GgufFile::open(lathe::test::fixture("golden/stories260K/models/stories260K-F32.gguf"));
        const size_t V = 512, C = 64;
        const TensorView *embd = f->tensor("token_embd.weight");
        QVERIFY(embd);
        QCOMPARE(embd->bytes, V * C * 4);
        QVERIFY(bin.size() >= 28 + (V * C + 5 * C) * 4);
        QVERIFY(std::memcmp(embd->data, bin.data() + 28, embd->bytes) == 0);
        const TensorView *out = f->tensor("output.weight"); // the tied head, copied
        QVERIFY(out);
        QCOMPARE(out->bytes, embd->bytes);
        QVERIFY(std::memcmp(out->data, embd->data, embd->bytes) == 0);
        for (int l = 0; l < 5; ++l) {
            const TensorView *norm = f->tensor("blk." + std::to_string(l) + ".attn_norm.weight");
            QVERIFY(norm);
            QVERIFY(std::memcmp(norm->data, bin.data() + 28 + (V * C + l * C) * 4, C * 4) == 0);
        }
    }

    void typedGetters()
    {
        const auto f = GgufFile::open(lathe::test::fixture("golden/random_qwen2_d128/models/random_qwen2_d128-F32.gguf"));
        QCOMPARE(f->getString("general.architecture").value(), std::string("qwen2"));
        QCOMPARE(f->getInt("qwen2.block_count").value(), int64_t(2));
        QCOMPARE(f->getFloat("qwen2.block_count").value(), 2.0);
        QCOMPARE(f->getBool("tokenizer.ggml.add_bos_token").value(), false);
        QCOMPARE(f->getStringArray("tokenizer.ggml.tokens")->size(), size_t(1024));
        QCOMPARE(f->getIntArray("tokenizer.ggml.token_type")->size(), size_t(1024));
        QVERIFY(!f->getString("no.such.key"));
        QVERIFY(!f->has("no.such.key"));
        try {
            f->getString("qwen2.block_count");
            QFAIL("no error for a wrong type");
        } catch (const Error &e) {
            const std::string msg = e.what();
            QVERIFY2(msg.rfind(f->path(), 0) == 0 && msg.find("qwen2.block_count") != std::string::npos,
                     e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, f->getInt("general.architecture"));
        QVERIFY_THROWS_EXCEPTION(Error, f->getIntArray("tokenizer.ggml.tokens"));
    }
};

QTEST_GUILESS_MAIN(TestGgufFixtures)
#include "tst_gguf_fixtures.moc"
