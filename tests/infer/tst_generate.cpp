// generate() on the real stories260K GGUF, whose greedy continuation from BOS is known
// independently (reference_greedy.json), with a fake piece decoder "<id>" so that stop
// strings can be placed across token boundaries at will.
#include "backend/cpu/CpuDevice.h"
#include "core/Error.h"
#include "infer/Generate.h"
#include "model/LoadedModel.h"

#include "Fixtures.h"

#include <QtTest>
#include <algorithm>

using namespace lathe;

namespace {
std::string piece(int32_t id)
{
    std::string s = "<";
    s += std::to_string(id);
    s += '>';
    return s;
}
} // namespace

class TestGenerate : public QObject
{
    Q_OBJECT
    std::shared_ptr<const LoadedModel> m_model;
    std::shared_ptr<Device> m_device = std::make_shared<CpuDevice>(2);
    std::vector<int32_t> m_ref; // greedy ids after BOS
    const std::vector<int32_t> m_bos = {1};

    GenerateOptions greedy(int maxTokens)
    {
        GenerateOptions o;
        o.maxTokens = maxTokens;
        o.sampler.temperature = 0;
        return o;
    }
    std::vector<int32_t> ref(size_t n) const { return {m_ref.begin(), m_ref.begin() + ptrdiff_t(n)}; }

private slots:
    void initTestCase()
    {
        m_model = std::make_shared<LoadedModel>(loadGgufModel(test::fixture("models/stories260K/stories260Ktok512.gguf")));
        const auto all = test::readJson(test::fixture("models/stories260K/reference_greedy.json"))["greedy_ids_from_bos"]
                             .get<std::vector<int32_t>>();
        m_ref.assign(all.begin() + 1, all.end());
    }

    void maxTokens()
    {
        Session s(m_model, m_device);
        std::vector<int32_t> streamed;
        const GenerateResult r = generate(s, m_bos, greedy(10), piece, [&](int32_t id) {
            streamed.push_back(id);
            return true;
        });
        QCOMPARE(r.ids, ref(10));
        QCOMPARE(streamed, r.ids);
        QCOMPARE(r.stopReason, StopReason::MaxTokens);
        QCOMPARE(r.prefillTokens, int64_t(1));
        QCOMPARE(r.decodeTokens, int64_t(9));
        std::string text;
        for (int32_t id : r.ids)
            text += piece(id);
        QCOMPARE(r.text, text);
    }

    void stopIds()
    {
        // The first token whose id did not occur before it: the stop comes exactly there.
        size_t k = 3;
        while (std::find(m_ref.begin(), m_ref.begin() + ptrdiff_t(k), m_ref[k]) != m_ref.begin() + ptrdiff_t(k))
            ++k;
        Session s(m_model, m_device);
        GenerateOptions o = greedy(50);
        o.stopIds = {m_ref[k]};
        const GenerateResult r = generate(s, m_bos, o);
        QCOMPARE(r.stopReason, StopReason::StopId);
        QCOMPARE(r.ids, ref(k)); // the stop id itself is not returned
    }

    void stopStringAcrossTokens()
    {
        // Text "<403><407><261>...": the stop string starts inside the 2nd token and ends in
        // the 3rd. Only the 1st token is emitted and returned; the text stops before it.
        const std::string t0 = piece(m_ref[0]), t1 = piece(m_ref[1]), t2 = piece(m_ref[2]);
        const std::string stop = t1.substr(2) + t2.substr(0, 2);
        Session s(m_model, m_device);
        GenerateOptions o = greedy(20);
        o.stopStrings = {"never appears", stop};
        std::vector<int32_t> streamed;
        const GenerateResult r = generate(s, m_bos, o, piece, [&](int32_t id) {
            streamed.push_back(id);
            return true;
        });
        QCOMPARE(r.stopReason, StopReason::StopString);
        QCOMPARE(r.ids, ref(1));
        QCOMPARE(streamed, ref(1));
        QCOMPARE(r.text, t0 + t1.substr(0, 2));
    }

    void heldBackTokensAreReleased()
    {
        // "<t1><999" is a prefix of the stop string while tokens 1..2 stream in, then fails
        // to complete: every token still reaches the callback, in order.
        Session s(m_model, m_device);
        GenerateOptions o = greedy(8);
        o.stopStrings = {piece(m_ref[1]) + "<99999>"};
        std::vector<int32_t> streamed;
        const GenerateResult r = generate(s, m_bos, o, piece, [&](int32_t id) {
            streamed.push_back(id);
            return true;
        });
        QCOMPARE(r.stopReason, StopReason::MaxTokens);
        QCOMPARE(r.ids, ref(8));
        QCOMPARE(streamed, ref(8));
    }

    void callbackStops()
    {
        Session s(m_model, m_device);
        int calls = 0;
        const GenerateResult r = generate(s, m_bos, greedy(50), {}, [&](int32_t) { return ++calls < 3; });
        QCOMPARE(r.stopReason, StopReason::Callback);
        QCOMPARE(calls, 3);
        QCOMPARE(r.ids, ref(3));
    }

    void contextOverflow()
    {
        Session s(m_model, m_device, {8, DType::F32});
        const std::vector<int32_t> nine(9, 1);
        try {
            generate(s, nine, greedy(4));
            QFAIL("expected an error");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("context of 8 tokens exceeded") != std::string::npos, e.what());
        }
        QCOMPARE(s.position(), int64_t(0)); // nothing was appended
        // Generation that reaches the end of the context stops there: 1 prompt + 7
        // decoded positions fill the cache; the 8th sampled token needs no position.
        const GenerateResult r = generate(s, m_bos, greedy(50));
        QCOMPARE(r.stopReason, StopReason::ContextFull);
        QCOMPARE(r.ids, ref(8));
        QVERIFY_THROWS_EXCEPTION(Error, s.decode(5));
    }

    void stopStringsNeedDecoder()
    {
        Session s(m_model, m_device);
        GenerateOptions o = greedy(4);
        o.stopStrings = {"x"};
        QVERIFY_THROWS_EXCEPTION(Error, generate(s, m_bos, o));
    }
};

QTEST_GUILESS_MAIN(TestGenerate)
#include "tst_generate.moc"
