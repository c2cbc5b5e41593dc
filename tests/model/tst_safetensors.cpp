// Safetensors reading and writing: a round trip through the writer, the real HF fixture
// file (tensor table checked against its header as Python's json module reads it, see
// below), and hand-built hostile files that must each fail with a specific message.
#include "Fixtures.h"

#include "core/Error.h"
#include "core/Half.h"
#include "model/hf/SafetensorsFile.h"
#include "model/hf/SafetensorsWriter.h"

#include <QtTest>
#include <cstring>
#include <filesystem>

using namespace lathe;

namespace {

// A file from a header text (padded with spaces to a multiple of 8, as writers do, so
// that alignment is not what fails) and dataBytes bytes of data.
std::vector<uint8_t> makeFile(std::string header, size_t dataBytes)
{
    header.append((8 - header.size() % 8) % 8, ' ');
    std::vector<uint8_t> b(8 + header.size() + dataBytes, 0);
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i)
        b[i] = uint8_t(n >> (8 * i));
    std::memcpy(b.data() + 8, header.data(), header.size());
    return b;
}

std::string parseError(const std::vector<uint8_t> &bytes)
{
    try {
        SafetensorsFile::parseBytes(bytes.data(), bytes.size(), "hostile.safetensors");
    } catch (const Error &e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

class TestSafetensors : public QObject
{
    Q_OBJECT
private slots:
    void roundTrip()
    {
        const std::vector<float> a{1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, -7.0f};
        const std::vector<uint16_t> h{f32ToF16(0.5f), f32ToF16(-1.0f), f32ToF16(2.0f), f32ToF16(3.0f), f32ToF16(4.0f)};
        const std::vector<uint16_t> bf{f32ToBf16(1.0f), f32ToBf16(-3.0f), f32ToBf16(0.125f)};
        SafetensorsWriter w;
        w.setMetadata("format", "pt");
        w.setMetadata("lathe", "test");
        w.addTensor("b.half", DType::F16, {5}, h.data(), h.size() * 2); // odd size: F32 must still align
        w.addTensor("a.float", DType::F32, {2, 3}, a.data(), a.size() * 4);
        w.addTensor("c.bf16", DType::BF16, {1, 3}, bf.data(), bf.size() * 2);
        w.addTensor("d.empty", DType::F32, {0, 4}, nullptr, 0);

        QTemporaryDir dir;
        const std::string path = dir.filePath("out.safetensors").toStdString();
        w.write(path);
        // Atomic write: only the target is left in the folder, no temporary file.
        QCOMPARE(std::distance(std::filesystem::directory_iterator(dir.path().toStdString()),
                               std::filesystem::directory_iterator()), 1L);

        const auto f = SafetensorsFile::open(path);
        QCOMPARE(f->tensors().size(), size_t(4));
        QCOMPARE(f->metadata().at("format"), std::string("pt"));
        QCOMPARE(f->metadata().at("lathe"), std::string("test"));
        const TensorView *ta = f->tensor("a.float");
        QVERIFY(ta);
        QCOMPARE(ta->dtype, DType::F32);
        QCOMPARE(ta->shape, (std::vector<int64_t>{2, 3}));
        QCOMPARE(std::memcmp(ta->data, a.data(), 24), 0);
        QCOMPARE(reinterpret_cast<uintptr_t>(ta->data) % 4, uintptr_t(0));
        const TensorView *th = f->tensor("b.half");
        QCOMPARE(th->dtype, DType::F16);
        QCOMPARE(std::memcmp(th->data, h.data(), 10), 0);
        const TensorView *tb = f->tensor("c.bf16");
        QCOMPARE(tb->dtype, DType::BF16);
        QCOMPARE(std::memcmp(tb->data, bf.data(), 6), 0);
        QCOMPARE(f->tensor("d.empty")->numel(), int64_t(0));
        QVERIFY(!f->tensor("missing"));
        // The same bytes in memory parse the same way.
        const auto bytes = w.serialize();
        QCOMPARE(SafetensorsFile::parseBytes(bytes.data(), bytes.size(), "mem")->tensors().size(), size_t(4));
    }

    void writerRejectsBadInput()
    {
        SafetensorsWriter w;
        const float x[4] = {};
        auto expect = [&](auto fn, const char *substring) {
            try {
                fn();
                QFAIL(substring);
            } catch (const Error &e) {
                QVERIFY2(std::string(e.what()).find(substring) != std::string::npos, e.what());
            }
        };
        expect([&] { w.addTensor("x", DType::F32, {2, 2}, x, 12); }, "needs 16 bytes, got 12");
        expect([&] { w.addTensor("x", DType::Q8_0, {32}, x, 34); }, "cannot be written");
        expect([&] { w.addTensor("x", DType::F32, {-1, 2}, x, 8); }, "negative dimension");
        expect([&] { w.addTensor("__metadata__", DType::F32, {1}, x, 4); }, "invalid tensor name");
        w.addTensor("x", DType::F32, {4}, x, 16);
        expect([&] { w.addTensor("x", DType::F32, {4}, x, 16); }, "added twice");
        expect([&] { w.write("/nonexistent-dir/out.safetensors"); }, "/nonexistent-dir/out.safetensors");
    }

    void fixtureFile()
    {
        // Header facts read with Python's json module from the fixture: 39 tensors plus
        // __metadata__ {"format": "pt"}, all F16, model.embed_tokens.weight [512, 256] at
        // data offsets [0, 262144).
        const auto f = SafetensorsFile::open(test::fixture("golden/random_llama_d256/hf/model.safetensors"));
        QCOMPARE(f->tensors().size(), size_t(39));
        QCOMPARE(f->metadata().size(), size_t(1));
        QCOMPARE(f->metadata().at("format"), std::string("pt"));
        const TensorView &first = f->tensors().front(); // in data-offset order
        QCOMPARE(first.name, std::string("model.embed_tokens.weight"));
        QCOMPARE(first.dtype, DType::F16);
        QCOMPARE(first.shape, (std::vector<int64_t>{512, 256}));
        QCOMPARE(first.bytes, size_t(262144));
        const TensorView *k = f->tensor("model.layers.0.self_attn.k_proj.weight");
        QVERIFY(k);
        QCOMPARE(k->shape, (std::vector<int64_t>{64, 256}));
        for (const TensorView &t : f->tensors())
            QCOMPARE(t.dtype, DType::F16);
    }

    void emptyHeader()
    {
        const auto b = makeFile("{}", 0);
        QCOMPARE(SafetensorsFile::parseBytes(b.data(), b.size(), "empty")->tensors().size(), size_t(0));
    }

    void hostile_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<int>("dataBytes");
        QTest::addColumn<QString>("message");
        auto row = [](const char *name, const char *header, int data, const char *msg) {
            QTest::newRow(name) << QByteArray(header) << data << QString(msg);
        };
        row("not json", "{\"a\": {\"dtype\": ", 0, "header is not valid JSON");
        row("not json at all", "hello", 0, "header is not a JSON object");
        row("array", "[1, 2, 3]", 0, "header is not a JSON object");
        row("not object late", "{} 5", 0, "header is not valid JSON");
        row("unknown dtype", R"({"w": {"dtype": "Q9", "shape": [2], "data_offsets": [0, 8]}})", 8,
            "unsupported dtype Q9 in tensor w");
        row("I64", R"({"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})", 8,
            "unsupported dtype I64 in tensor w");
        row("F8", R"({"w": {"dtype": "F8_E4M3", "shape": [8], "data_offsets": [0, 8]}})", 8,
            "unsupported dtype F8_E4M3 in tensor w");
        row("negative shape", R"({"w": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}})", 8,
            "tensor w: shape dimension is negative (-1)");
        row("fractional shape", R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 8]}})", 8,
            "tensor w: shape dimension is not a non-negative integer");
        row("overflowing shape",
            R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 8]}})", 8,
            "tensor w: shape is too large");
        row("huge dim", R"({"w": {"dtype": "F16", "shape": [18446744073709551615], "data_offsets": [0, 8]}})", 8,
            "tensor w: shape is too large");
        row("offsets beyond data", R"({"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}})", 32,
            "outside the data section of 32 bytes");
        row("offsets backwards", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 32,
            "run backwards");
        row("offsets negative", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}})", 32,
            "data_offsets begin is negative");
        row("offsets not a pair", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 16]}})", 32,
            "not a [begin, end] pair");
        row("offsets vs shape", R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}})", 16,
            "tensor w: shape [2, 2] of F32 needs 16 bytes, data_offsets span 12");
        row("overlap",
            R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
            24, "tensors a and b overlap");
        row("duplicate", R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                             "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
            8, "duplicate tensor a");
        row("missing field", R"({"a": {"dtype": "F32", "shape": [1]}})", 8, "needs dtype, shape and data_offsets");
        row("entry not object", R"({"a": 5})", 8, "tensor a: entry is not an object");
        row("metadata not strings", R"({"__metadata__": {"k": 5}})", 0, "__metadata__ value for key k");
        row("misaligned", R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}})", 8, "not aligned");
        row("deep nesting", R"({"a": {"b": {"c": {"d": {"e": 1}}}}})", 0, "nests deeper");
    }

    void hostile()
    {
        QFETCH(QByteArray, header);
        QFETCH(int, dataBytes);
        QFETCH(QString, message);
        const std::string err = parseError(makeFile(header.toStdString(), size_t(dataBytes)));
        QVERIFY2(err.find(message.toStdString()) != std::string::npos, err.c_str());
        QVERIFY2(err.rfind("hostile.safetensors: ", 0) == 0, err.c_str()); // names the file
    }

    void hostileLengths()
    {
        std::vector<uint8_t> b = makeFile("{}", 0);
        b[0] = 200; // header length 200 in a 16-byte file
        QVERIFY(parseError(b).find("beyond the end of the file (16 bytes)") != std::string::npos);
        b[0] = 0;
        b[4] = 1; // 2^32 bytes
        QVERIFY(parseError(b).find("exceeds the limit") != std::string::npos);
        const std::vector<uint8_t> tiny{1, 0, 0};
        QVERIFY(parseError(tiny).find("too small") != std::string::npos);
        std::vector<uint8_t> zero(8, 0);
        QVERIFY(parseError(zero).find("not a JSON object") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
