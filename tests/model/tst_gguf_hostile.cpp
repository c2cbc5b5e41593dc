// Hostile GGUF input: a valid tiny llama written by GgufWriter, corrupted field by field
// (offsets found from the spec's layout), must fail with an Error whose message names
// the file and the problem; never a crash, a hang or a huge allocation.
#include "Fixtures.h"
#include "core/Error.h"
#include "model/LoadedModel.h"
#include "model/gguf/GgufFile.h"
#include "model/gguf/GgufWriter.h"

#include <QtTest>
#include <cstring>
#include <functional>

using namespace lathe;

namespace {

using Bytes = std::vector<uint8_t>;

// dim 8, 1 layer, 2 heads of 4, 1 kv head, ffn 16, vocab 16: every tensor is a
// multiple of 32 bytes, so the file has no trailing padding and every prefix is invalid.
struct TinyModel
{
    std::map<std::string, std::vector<int64_t>> shapes = {
        {"token_embd.weight", {16, 8}},        {"output_norm.weight", {8}},
        {"output.weight", {16, 8}},            {"blk.0.attn_norm.weight", {8}},
        {"blk.0.attn_q.weight", {8, 8}},       {"blk.0.attn_k.weight", {4, 8}},
        {"blk.0.attn_v.weight", {4, 8}},       {"blk.0.attn_output.weight", {8, 8}},
        {"blk.0.ffn_norm.weight", {8}},        {"blk.0.ffn_gate.weight", {16, 8}},
        {"blk.0.ffn_up.weight", {16, 8}},      {"blk.0.ffn_down.weight", {8, 16}},
    };
    std::function<void(GgufWriter &)> extraMetadata;

    GgufWriter writer() const
    {
        GgufWriter w;
        w.setString("general.architecture", "llama"); // first key: its offsets are fixed
        w.setU32("llama.embedding_length", 8);
        w.setU32("llama.block_count", 1);
        w.setU32("llama.feed_forward_length", 16);
        w.setU32("llama.attention.head_count", 2);
        w.setU32("llama.attention.head_count_kv", 1);
        w.setU32("llama.context_length", 32);
        w.setF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        w.setStringArray("tokenizer.ggml.tokens", std::vector<std::string>(16, "t"));
        w.setU32("test.aaa", 1);
        w.setU32("test.bbb", 2);
        if (extraMetadata)
            extraMetadata(w);
        for (const auto &[name, shape] : shapes) {
            int64_t n = 1;
            for (int64_t d : shape)
                n *= d;
            const std::vector<float> values(size_t(n), 0.25f);
            w.addTensor(name, DType::F32, shape, values.data(), values.size() * 4);
        }
        return w;
    }
    Bytes bytes(const QTemporaryDir &dir) const
    {
        const std::string path = lathe::test::tempPath(dir, "tiny.gguf").toStdString();
        writer().write(path);
        const std::string s = lathe::test::readText(path);
        return Bytes(s.begin(), s.end());
    }
    std::string file(const QTemporaryDir &dir, const char *name) const
    {
        const std::string path = lathe::test::tempPath(dir, name).toStdString();
        writer().write(path);
        return path;
    }
};

template <typename T>
void poke(Bytes &b, size_t at, T v)
{
    QVERIFY(at + sizeof v <= b.size());
    std::memcpy(b.data() + at, &v, sizeof v);
}

template <typename T>
T peek(const Bytes &b, size_t at)
{
    T v{};
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
}

// Position just after a length-prefixed string (a key or tensor name) equal to s.
size_t after(const Bytes &b, const std::string &s)
{
    Bytes needle(8);
    const uint64_t len = s.size();
    std::memcpy(needle.data(), &len, 8);
    needle.insert(needle.end(), s.begin(), s.end());
    auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
    if (it == b.end())
        throw std::runtime_error("not found: " + s);
    return size_t(it - b.begin()) + needle.size();
}

std::string parseError(const Bytes &b)
{
    try {
        GgufFile::parseBytes(b.data(), b.size(), "mem.gguf");
    } catch (const Error &e) {
        return e.what();
    }
    return "no error";
}

std::string loadError(const std::string &path)
{
    try {
        loadGgufModel(path);
    } catch (const Error &e) {
        return e.what();
    }
    return "no error";
}

#define EXPECT_ERROR(msg, part)                                                                                   \
    do {                                                                                                          \
        const std::string m_ = (msg);                                                                             \
        QVERIFY2(m_.find(part) != std::string::npos, m_.c_str());                                                 \
    } while (0)

} // namespace

class TestGgufHostile : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    Bytes m_valid;

    // Offsets of blk.0.attn_q.weight's info: n_dims, ne[0], ne[1], type, offset.
    size_t attnQInfo() const { return after(m_valid, "blk.0.attn_q.weight"); }

private slots:
    void initTestCase()
    {
        m_valid = TinyModel().bytes(m_dir);
        QCOMPARE(parseError(m_valid), std::string("no error"));
        QCOMPARE(loadError(TinyModel().file(m_dir, "valid.gguf")), std::string("no error"));
    }

    void everyTruncationFails()
    {
        for (size_t n = 0; n < m_valid.size(); ++n) {
            const Bytes prefix(m_valid.begin(), m_valid.begin() + ptrdiff_t(n));
            const std::string msg = parseError(prefix);
            QVERIFY2(msg.rfind("mem.gguf: ", 0) == 0, qPrintable(QString::number(n) + ": " + msg.c_str()));
        }
    }

    void header()
    {
        Bytes b = m_valid;
        b[0] = 'X';
        EXPECT_ERROR(parseError(b), "mem.gguf: not a GGUF file");
        b = m_valid;
        poke<uint32_t>(b, 4, 1);
        EXPECT_ERROR(parseError(b), "GGUF version 1 is not supported");
        poke<uint32_t>(b, 4, 99);
        EXPECT_ERROR(parseError(b), "unsupported GGUF version 99");
        poke<uint32_t>(b, 4, 0x03000000);
        EXPECT_ERROR(parseError(b), "big-endian");
    }

    void hugeCountsFailFast()
    {
        Bytes b = m_valid;
        poke<uint64_t>(b, 8, uint64_t(1) << 40);
        EXPECT_ERROR(parseError(b), "tensor count 1099511627776 cannot fit");
        b = m_valid;
        poke<uint64_t>(b, 16, uint64_t(1) << 40);
        EXPECT_ERROR(parseError(b), "metadata kv count 1099511627776 cannot fit");
        b = m_valid;
        poke<uint64_t>(b, 24, uint64_t(1) << 62); // length of the first key
        EXPECT_ERROR(parseError(b), "metadata key length 4611686018427387904");
        b = m_valid;
        poke<uint64_t>(b, after(b, "general.architecture") + 4, ~uint64_t(0)); // its string value
        EXPECT_ERROR(parseError(b), "key general.architecture: string value length");
        b = m_valid;
        // key, u32 type 9 (array), u32 element type 8 (string), u64 count
        poke<uint64_t>(b, after(b, "tokenizer.ggml.tokens") + 8, uint64_t(1) << 40);
        EXPECT_ERROR(parseError(b), "key tokenizer.ggml.tokens: array length 1099511627776 cannot fit");
        // A u8 array that fits the bytes but exceeds the element cap.
        const Bytes bigArray = [] {
            Bytes h{'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                    1, 0, 0, 0, 0, 0, 0, 0, 'k', 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0};
            h.resize(h.size() + (size_t(1) << 24) + 1, 0);
            return h;
        }();
        EXPECT_ERROR(parseError(bigArray), "key k: array length 16777217 exceeds the limit");
        b = m_valid;
        poke<uint32_t>(b, after(b, "test.aaa"), 13);
        EXPECT_ERROR(parseError(b), "key test.aaa: invalid value type 13");
    }

    void duplicateKeys()
    {
        Bytes b = m_valid;
        const size_t at = after(b, "test.bbb") - 3;
        std::memcpy(b.data() + at, "aaa", 3);
        EXPECT_ERROR(parseError(b), "key test.aaa: duplicate key");
    }

    void badAlignment()
    {
        TinyModel m;
        m.extraMetadata = [](GgufWriter &w) { w.setU32("general.alignment", 24); };
        EXPECT_ERROR(parseError(m.bytes(m_dir)), "general.alignment: 24 is not a power of two");
    }

    void tensorInfos()
    {
        const size_t q = attnQInfo();
        QCOMPARE(peek<uint32_t>(m_valid, q), 2u); // n_dims of a [8, 8] matrix
        Bytes b = m_valid;
        poke<uint32_t>(b, q, 5);
        EXPECT_ERROR(parseError(b), "tensor blk.0.attn_q.weight: n_dims 5");
        b = m_valid;
        poke<uint64_t>(b, q + 4, uint64_t(1) << 62);
        EXPECT_ERROR(parseError(b), "tensor blk.0.attn_q.weight: element count overflows");
        b = m_valid;
        poke<uint64_t>(b, q + 4, ~uint64_t(0));
        EXPECT_ERROR(parseError(b), "is too large");
        b = m_valid;
        poke<uint32_t>(b, q + 20, 16);
        EXPECT_ERROR(parseError(b), "mem.gguf: unsupported tensor type IQ2_XXS in tensor blk.0.attn_q.weight");
        b = m_valid;
        poke<uint32_t>(b, q + 20, 8); // Q8_0: 8-element rows are not whole 32-element blocks
        EXPECT_ERROR(parseError(b), "not a multiple of the Q8_0 block size 32");
        b = m_valid;
        poke<uint64_t>(b, q + 24, uint64_t(1) << 40);
        EXPECT_ERROR(parseError(b), "tensor blk.0.attn_q.weight: data [1099511627776");
        b = m_valid;
        poke<uint64_t>(b, q + 24, peek<uint64_t>(b, q + 24) + 4);
        EXPECT_ERROR(parseError(b), "is not a multiple of the alignment 32");
        b = m_valid;
        poke<uint64_t>(b, q + 24, peek<uint64_t>(b, after(b, "blk.0.attn_k.weight") + 24));
        EXPECT_ERROR(parseError(b), "overlap");
        b = m_valid;
        const size_t k = after(b, "blk.0.attn_k.weight");
        b[k - 8] = 'q'; // attn_k -> attn_q: same length, now a second attn_q
        EXPECT_ERROR(parseError(b), "duplicate tensor name blk.0.attn_q.weight");
    }

    // Arrays of arrays are not written by GgufWriter: built by hand. Accepted (and
    // skipped) two levels deep, refused beyond four.
    void nestedArrays()
    {
        auto file = [](int depth) {
            Bytes b{'G', 'G', 'U', 'F', 3, 0, 0, 0};
            auto u32 = [&](uint32_t v) { b.insert(b.end(), (uint8_t *)&v, (uint8_t *)&v + 4); };
            auto u64 = [&](uint64_t v) { b.insert(b.end(), (uint8_t *)&v, (uint8_t *)&v + 8); };
            u64(0);
            u64(1);
            u64(1);
            b.push_back('k');
            u32(9);
            for (int d = 1; d < depth; ++d) {
                u32(9); // element type array
                u64(1);
            }
            u32(4);
            u64(2);
            u32(5);
            u32(6);
            return b;
        };
        const Bytes two = file(2);
        const auto f = GgufFile::parseBytes(two.data(), two.size(), "nested");
        QCOMPARE(f->find("k")->elementType, GgufType::Array);
        QCOMPARE(f->find("k")->arrayLength, uint64_t(1));
        EXPECT_ERROR(parseError(file(5)), "arrays nested deeper than 4 levels");
    }

    void loaderChecksAgainstTheConfig()
    {
        TinyModel wrongCols;
        wrongCols.shapes["blk.0.attn_q.weight"] = {8, 7};
        const std::string p1 = wrongCols.file(m_dir, "cols.gguf");
        EXPECT_ERROR(loadError(p1), p1 + ": tensor blk.0.attn_q.weight: shape [8, 7], expected [8, 8]");

        TinyModel missing;
        missing.shapes.erase("blk.0.ffn_up.weight");
        const std::string p2 = missing.file(m_dir, "missing.gguf");
        EXPECT_ERROR(loadError(p2), p2 + ": missing tensor blk.0.ffn_up.weight");

        TinyModel absurd;
        absurd.extraMetadata = [](GgufWriter &w) { w.setU64("llama.embedding_length", uint64_t(1) << 40); };
        EXPECT_ERROR(loadError(absurd.file(m_dir, "absurd.gguf")), "llama.embedding_length: value 1099511627776");

        TinyModel layers;
        layers.extraMetadata = [](GgufWriter &w) { w.setU32("llama.block_count", 2000000); };
        EXPECT_ERROR(loadError(layers.file(m_dir, "layers.gguf")), "n_layers = 2000000");

        TinyModel arch;
        arch.extraMetadata = [](GgufWriter &w) { w.setString("general.architecture", "foo"); };
        const std::string msg = loadError(arch.file(m_dir, "arch.gguf"));
        EXPECT_ERROR(msg, "unknown architecture 'foo'");
        EXPECT_ERROR(msg, "llama");

        TinyModel noKey;
        noKey.extraMetadata = [](GgufWriter &w) { w.setString("llama.context_length", "long"); };
        const std::string p3 = noKey.file(m_dir, "ctx.gguf");
        EXPECT_ERROR(loadError(p3), p3 + ": key llama.context_length: expected an integer, found string");
        QVERIFY(loadError(p3).find(p3, 1) == std::string::npos); // the path once, not twice

        const std::string nofile = m_dir.path().toStdString() + "/absent.gguf";
        EXPECT_ERROR(loadError(nofile), nofile);
    }
};

QTEST_GUILESS_MAIN(TestGgufHostile)
#include "tst_gguf_hostile.moc"
