// GgufWriter: the exact bytes of a tiny file (from the GGUF spec, ggml/docs/gguf.md),
// a round trip of every metadata type and several tensor dtypes through GgufFile, the
// atomic replace, and refusals of bad tensors.
#include "Fixtures.h"
#include "core/Error.h"
#include "model/gguf/GgufFile.h"
#include "model/gguf/GgufWriter.h"

#include <QtTest>
#include <cstring>
#include <filesystem>
#include <random>

using namespace lathe;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> randomBytes(size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> out(n);
    for (uint8_t &b : out)
        b = uint8_t(rng());
    return out;
}

} // namespace

class TestGgufWriter : public QObject
{
    Q_OBJECT
private slots:
    // Spec layout by hand: magic, u32 version 3, u64 tensor count, u64 kv count, key as
    // u64 length + bytes, u32 type (4 = u32), value; then zero padding to 32 bytes.
    void exactBytesOfATinyFile()
    {
        QTemporaryDir dir;
        const std::string path = lathe::test::tempPath(dir, "tiny.gguf").toStdString();
        GgufWriter w;
        w.setU32("a", 7);
        w.write(path);
        const std::string got = lathe::test::readText(path);
        const uint8_t expect[] = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                  1, 0, 0, 0, 0, 0, 0, 0, 'a', 4, 0, 0, 0, 7, 0, 0, 0};
        QCOMPARE(got.size(), size_t(64));
        QVERIFY(std::memcmp(got.data(), expect, sizeof expect) == 0);
        for (size_t i = sizeof expect; i < got.size(); ++i)
            QCOMPARE(uint8_t(got[i]), uint8_t(0));
    }

    void roundTrip()
    {
        QTemporaryDir dir;
        const std::string path = lathe::test::tempPath(dir, "rt.gguf").toStdString();
        GgufWriter w;
        const std::string withNul("a\0b\xe2\x96\x81", 6);
        w.setString("s.plain", "hello");
        w.setString("s.nul_utf8", withNul);
        w.setString("s.empty", "");
        w.setU32("n.u32", 4000000000u);
        w.setI32("n.i32", -123456);
        w.setU64("n.u64", (uint64_t(1) << 40) + 3);
        w.setF32("n.f32", 0.1f);
        w.setBool("b.true", true);
        w.setBool("b.false", false);
        w.setStringArray("a.str", {"x", "", withNul});
        w.setF32Array("a.f32", {1.5f, -0.0f, 3e-8f});
        w.setI32Array("a.i32", {-1, 0, 2147483647});
        w.setI32Array("a.empty", {});
        w.setU32("n.replaced", 1);
        w.setU32("n.replaced", 2); // replaced in place, not duplicated

        struct T { std::string name; DType dtype; std::vector<int64_t> shape; std::vector<uint8_t> data; };
        std::vector<T> ts = {
            {"f32", DType::F32, {3, 5}, randomBytes(60, 1)},
            {"f16", DType::F16, {2, 4}, randomBytes(16, 2)},
            {"bf16.1d", DType::BF16, {7}, randomBytes(14, 3)},
            {"q8_0", DType::Q8_0, {2, 64}, randomBytes(2 * 2 * 34, 4)},
            {"q4_k", DType::Q4_K, {1, 256}, randomBytes(144, 5)},
            {"i32.3d", DType::I32, {2, 3, 4}, randomBytes(96, 6)},
            {"q4_0.4d", DType::Q4_0, {2, 1, 3, 32}, randomBytes(6 * 18, 7)},
        };
        for (const T &t : ts)
            w.addTensor(t.name, t.dtype, t.shape, t.data.data(), t.data.size());
        w.write(path);

        const auto f = GgufFile::open(path);
        QCOMPARE(f->version(), 3u);
        QCOMPARE(f->alignment(), size_t(32));
        QCOMPARE(f->keys().size(), size_t(14));
        QCOMPARE(f->getString("s.plain").value(), std::string("hello"));
        QCOMPARE(f->getString("s.nul_utf8").value(), withNul);
        QCOMPARE(f->getString("s.empty").value(), std::string());
        QCOMPARE(f->find("n.u32")->type, GgufType::U32);
        QCOMPARE(f->getInt("n.u32").value(), int64_t(4000000000u));
        QCOMPARE(f->find("n.i32")->type, GgufType::I32);
        QCOMPARE(f->getInt("n.i32").value(), int64_t(-123456));
        QCOMPARE(f->find("n.u64")->type, GgufType::U64);
        QCOMPARE(f->getInt("n.u64").value(), int64_t((uint64_t(1) << 40) + 3));
        QCOMPARE(f->find("n.f32")->type, GgufType::F32);
        QCOMPARE(f->getFloat("n.f32").value(), double(0.1f)); // f32 bits kept exactly
        QCOMPARE(f->getBool("b.true").value(), true);
        QCOMPARE(f->getBool("b.false").value(), false);
        QCOMPARE(f->getStringArray("a.str").value(), (std::vector<std::string>{"x", "", withNul}));
        QCOMPARE(f->find("a.f32")->elementType, GgufType::F32);
        QCOMPARE(f->getFloatArray("a.f32").value(), (std::vector<double>{1.5, -0.0, double(3e-8f)}));
        QVERIFY(std::signbit(f->getFloatArray("a.f32").value()[1]));
        QCOMPARE(f->find("a.i32")->elementType, GgufType::I32);
        QCOMPARE(f->getIntArray("a.i32").value(), (std::vector<int64_t>{-1, 0, 2147483647}));
        QCOMPARE(f->getIntArray("a.empty").value(), std::vector<int64_t>{});
        QCOMPARE(f->getInt("n.replaced").value(), int64_t(2));

        QCOMPARE(f->tensors().size(), ts.size());
        const auto *base = static_cast<const uint8_t *>(f->tensors()[0].data);
        for (size_t i = 0; i < ts.size(); ++i) {
            const TensorView &v = f->tensors()[i];
            QCOMPARE(v.name, ts[i].name);
            QCOMPARE(v.dtype, ts[i].dtype);
            QCOMPARE(v.shape, ts[i].shape);
            QCOMPARE(v.bytes, ts[i].data.size());
            QVERIFY(std::memcmp(v.data, ts[i].data.data(), v.bytes) == 0);
            QCOMPARE(size_t(static_cast<const uint8_t *>(v.data) - base) % 32, size_t(0));
        }
    }

    void replacesAtomically()
    {
        QTemporaryDir dir;
        const std::string path = lathe::test::tempPath(dir, "m.gguf").toStdString();
        GgufWriter a;
        a.setString("v", "first");
        a.write(path);
        GgufWriter b;
        b.setString("v", "second");
        b.write(path);
        QCOMPARE(GgufFile::open(path)->getString("v").value(), std::string("second"));
        size_t files = 0;
        for ([[maybe_unused]] const auto &e : fs::directory_iterator(dir.path().toStdString()))
            ++files;
        QCOMPARE(files, size_t(1)); // no temporary left behind
        QVERIFY_THROWS_EXCEPTION(Error, b.write(dir.path().toStdString() + "/no/such/dir/x.gguf"));
    }

    void refusesBadTensors()
    {
        GgufWriter w;
        const std::vector<uint8_t> data(64 * 4);
        QVERIFY_THROWS_EXCEPTION(Error, w.addTensor("short", DType::F32, {2, 32}, data.data(), 100));
        QVERIFY_THROWS_EXCEPTION(Error, w.addTensor("q8", DType::Q8_0, {2, 31}, data.data(), 62));
        QVERIFY_THROWS_EXCEPTION(Error, w.addTensor("nf4", DType::NF4, {1, 64}, data.data(), 36));
        QVERIFY_THROWS_EXCEPTION(Error, w.addTensor("5d", DType::F32, {1, 1, 1, 1, 4}, data.data(), 16));
        QVERIFY_THROWS_EXCEPTION(Error, w.addTensor("0d", DType::F32, {}, data.data(), 4));
        w.addTensor("ok", DType::F32, {4}, data.data(), 16);
        QVERIFY_THROWS_EXCEPTION(Error, w.addTensor("ok", DType::F32, {4}, data.data(), 16));
    }
};

QTEST_GUILESS_MAIN(TestGgufWriter)
#include "tst_gguf_writer.moc"
