// Our forward pass against llama.cpp's logits on identical GGUF files (fixtures/golden,
// read its README). Every logits/<TYPE>_<text>.json and greedy/<TYPE>.json found is
// checked; the bound for each family comes from the README and from crosscheck_f64.jsonl,
// which records how close an exact float64 engine gets to each file (no exact engine
// gets closer, so a bound tighter than that would fail a correct engine):
//  * F32 weights vs *_kvf32 (llama.cpp with an F32 cache): max |dlogit| over the
//    full-logit positions <= 2e-3, |dlogsumexp| <= 2e-3 everywhere, argmax equal at every
//    position (an exact engine is within 1e-5; 2e-3 leaves room for f32 summation order).
//  * F32/F16/BF16 weights vs the F16-KV files: max |dlogit| <= 1.5 x the exact engine's
//    distance (llama.cpp rounds K, V and Q to f16, we do not).
//  * quantized weights: llama.cpp also quantizes activations to 8 bits, so logits differ
//    by up to 0.8; we compare mean NLL within 1% or 1.5 x the exact engine's relative
//    distance where that is larger (on the short text c, mean NLL is ~0.07 and the exact
//    engine is up to 6.7% off), and on stories260K argmax agreement >= 97% (the issue
//    asked 98%, but the exact engine reaches only 97.7% on Q5_K_M_fallback_b).
//    Our CPU device quantizes activations like llama.cpp by default (it reproduces
//    llama.cpp's logits where nothing else differs: tst_golden_int8), so it rounds
//    differently from the exact engine, and these files are chaotic at that level: one
//    flipped activation code moves a logsumexp by up to 0.2, an f16 instead of an f32 KV
//    cache moves text c's mean NLL by 3 points. So for quantized files the exact
//    distance that sets a bound is the largest over the model's quantized files on the
//    same text (they differ only in rounding), not that of the one file.
//  * everything except _kvf32: max |dlogsumexp| over all positions <= 1.5 x exact + 1e-4
//    (the random-weight models have near-tied logits, so argmax is no measure there).
//  * greedy: our continuation equals llama.cpp's up to the first step whose recorded
//    margin (best - runner-up logit) is below 2 x the logit bound of its family: below
//    that, both engines' rounding can legitimately flip the choice. On the quantized
//    random-weight models that bound (~1) exceeds the first margins, so additionally,
//    teacher-forced along llama.cpp's continuation, the token it chose must be within
//    2 x the bound of our best logit at every step.
#include "backend/cpu/CpuDevice.h"
#include "infer/Generate.h"
#include "infer/Session.h"
#include "model/LoadedModel.h"

#include "Fixtures.h"

#include <QtTest>
#include <cmath>
#include <filesystem>
#include <map>

using namespace lathe;
namespace fs = std::filesystem;

namespace {

struct Exact
{
    double dlogit = 0, dlse = 0, nll = 0, agreement = 0, llamaNll = 0;
};

bool isPlainFloat(const std::string &type)
{
    return type == "F32" || type == "F16" || type == "BF16";
}

double logsumexp(const float *row, int64_t n)
{
    float mx = row[0];
    for (int64_t i = 1; i < n; ++i)
        mx = std::max(mx, row[i]);
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += std::exp(double(row[i]) - mx);
    return mx + std::log(s);
}

int64_t argmax(const float *row, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
        if (row[i] > row[best])
            best = i;
    return best;
}

struct Comparison
{
    double maxDlogit = 0, maxDlse = 0, meanNll = 0, agreement = 0;
};

Comparison compare(const nlohmann::json &g, const std::vector<float> &logits, int64_t V)
{
    Comparison c;
    const auto &positions = g["positions"];
    int agree = 0, scored = 0;
    double nll = 0;
    for (size_t p = 0; p < positions.size(); ++p) {
        const auto &pos = positions[p];
        const float *row = logits.data() + p * V;
        const double lse = logsumexp(row, V);
        c.maxDlse = std::max(c.maxDlse, std::abs(lse - pos["logsumexp"].get<double>()));
        agree += argmax(row, V) == pos["argmax"].get<int64_t>();
        if (!pos["nll_next"].is_null()) {
            nll += lse - row[pos["next_token"].get<int64_t>()];
            ++scored;
        }
        if (pos.contains("logits") && !pos["logits"].is_null()) {
            const auto &want = pos["logits"];
            for (int64_t v = 0; v < V; ++v)
                c.maxDlogit = std::max(c.maxDlogit, std::abs(double(row[v]) - want[size_t(v)].get<double>()));
        }
    }
    c.meanNll = nll / scored;
    c.agreement = double(agree) / double(positions.size());
    return c;
}

} // namespace

class TestGoldenLogits : public QObject
{
    Q_OBJECT
    // One thread: these models are tiny (<= 4M parameters), so splitting their ops costs
    // more in wake-ups than it saves; the op tests cover the multi-threaded paths.
    std::shared_ptr<Device> m_device = std::make_shared<CpuDevice>(1);
    std::map<std::string, std::shared_ptr<const LoadedModel>> m_models;
    std::map<std::string, Exact> m_exact;                  // "<model>/<logits file>"
    std::map<std::string, double> m_logitBound;            // "<model>/<TYPE>": max bound over its files

    // The largest exact distance over the quantized files of `folder` on the same text
    // as `file` ("<TYPE>_<x>.json"): dlse and relative mean NLL (see the banner).
    Exact quantizedFamily(const std::string &folder, const std::string &file) const
    {
        const std::string text = file.substr(file.rfind('_'));
        Exact worst;
        for (const auto &[key, ex] : m_exact) {
            const std::string name = key.substr(key.find('/') + 1);
            const std::string type = name.substr(0, name.rfind('_'));
            if (!key.starts_with(folder + "/") || !name.ends_with(text) || isPlainFloat(type) ||
                type.ends_with("_kvf32"))
                continue;
            worst.dlse = std::max(worst.dlse, ex.dlse);
            worst.nll = std::max(worst.nll, std::abs(ex.nll / ex.llamaNll - 1.0));
        }
        return worst;
    }

    std::shared_ptr<const LoadedModel> model(const std::string &folder, const std::string &type)
    {
        std::string base = type;
        if (base.ends_with("_kvf32"))
            base.resize(base.size() - 6);
        const std::string path = test::fixture("golden/" + folder + "/models/" + folder + "-" + base + ".gguf");
        auto &m = m_models[path];
        if (!m)
            m = std::make_shared<LoadedModel>(loadGgufModel(path));
        return m;
    }

    static std::vector<std::string> modelFolders()
    {
        std::vector<std::string> out;
        for (const auto &e : fs::directory_iterator(test::fixture("golden")))
            if (e.is_directory() && fs::exists(e.path() / "logits"))
                out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }

    static std::vector<fs::path> jsonFiles(const fs::path &dir)
    {
        std::vector<fs::path> out;
        if (fs::exists(dir))
            for (const auto &e : fs::directory_iterator(dir))
                if (e.path().extension() == ".json")
                    out.push_back(e.path());
        std::sort(out.begin(), out.end());
        return out;
    }

private slots:
    void initTestCase()
    {
        for (const std::string &folder : modelFolders()) {
            std::ifstream in(test::fixture("golden/" + folder + "/crosscheck_f64.jsonl"));
            std::string line;
            while (std::getline(in, line)) {
                if (line.empty())
                    continue;
                const auto j = nlohmann::json::parse(line);
                const auto &e = j["exact"];
                m_exact[folder + "/" + j["logits"].get<std::string>()] =
                    Exact{e["max_abs_dlogit_full_positions"], e["max_abs_dlogsumexp_all_positions"], e["mean_nll"],
                          e["argmax_agreement"], j["mean_nll_llamacpp"]};
            }
        }
        QVERIFY(!m_exact.empty());
    }

    void logits_data()
    {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QString>("file");
        size_t count = 0;
        for (const std::string &folder : modelFolders()) {
            const auto files = jsonFiles(test::fixture("golden/" + folder + "/logits"));
            QVERIFY(!files.empty());
            for (const fs::path &f : files) {
                QTest::newRow((folder + "/" + f.filename().string()).c_str())
                    << QString::fromStdString(folder) << QString::fromStdString(f.filename().string());
                ++count;
            }
        }
        // The folders hold 24 (stories260K) + 24 (random_llama_d256) + 6 + 6 files; a
        // change there must be looked at, not silently absorbed.
        QCOMPARE(count, size_t(60));
    }
    void logits()
    {
        QFETCH(QString, folder);
        QFETCH(QString, file);
        const std::string name = file.toStdString();
        const std::string type = name.substr(0, name.rfind('_'));
        const auto g = test::readJson(test::fixture("golden/" + folder.toStdString() + "/logits/" + name));
        QVERIFY2(m_exact.count(folder.toStdString() + "/" + name), "no crosscheck_f64 entry");
        const Exact ex = m_exact[folder.toStdString() + "/" + name];
        const std::vector<int32_t> tokens = g["tokens"].get<std::vector<int32_t>>();
        auto m = model(folder.toStdString(), type);
        const int64_t V = m->config.vocabSize;
        QCOMPARE(int64_t(g["n_vocab"]), V);

        Session s(m, m_device, {int64_t(tokens.size()), DType::F32});
        const std::vector<float> logits = s.prefillAll(tokens);
        const Comparison c = compare(g, logits, V);
        const double relNll = std::abs(c.meanNll / g["mean_nll"].get<double>() - 1.0);
        qInfo("%-36s max|dlogit| %.3g (exact %.3g)  max|dlse| %.3g  meanNLL rel %.4f (exact %.4f)  argmax %.4f",
              qPrintable(folder + "/" + file), c.maxDlogit, ex.dlogit, c.maxDlse, relNll,
              std::abs(ex.nll / ex.llamaNll - 1.0), c.agreement);

        if (type.ends_with("_kvf32")) {
            QVERIFY(c.maxDlogit <= 2e-3);
            QVERIFY(c.maxDlse <= 2e-3);
            QCOMPARE(c.agreement, 1.0);
            return;
        }
        if (isPlainFloat(type))
            QVERIFY(c.maxDlse <= 1.5 * ex.dlse + 1e-4);
        else
            QVERIFY(c.maxDlse <= 1.5 * quantizedFamily(folder.toStdString(), name).dlse + 1e-4);
        if (isPlainFloat(type)) {
            QVERIFY(c.maxDlogit <= 1.5 * ex.dlogit);
            // Also with an F16 cache like llama.cpp's: must stay within the same bound.
            Session s16(m, m_device, {int64_t(tokens.size()), DType::F16});
            const Comparison c16 = compare(g, s16.prefillAll(tokens), V);
            qInfo("%-36s with F16 KV: max|dlogit| %.3g  max|dlse| %.3g", qPrintable(folder + "/" + file),
                  c16.maxDlogit, c16.maxDlse);
            QVERIFY(c16.maxDlogit <= 1.5 * ex.dlogit);
            return;
        }
        const double exactRel = quantizedFamily(folder.toStdString(), name).nll;
        QVERIFY2(relNll <= std::max(0.01, 1.5 * exactRel), qPrintable(QString("mean NLL off by %1").arg(relNll)));
        if (folder == "stories260K")
            QVERIFY(c.agreement >= 0.97);
    }

    // The KV-cache path: token-by-token decode equals the batched prefill (one file per
    // model). The same ops on the same rows, except that the matmul sums a single row
    // (streaming the weights) in a different order from a batch: f32 rounding, ~1e-6
    // relative per matmul, grown through the layers to ~2e-5 on logits of magnitude
    // ~10. 1e-4 keeps a margin; a wrong position or cache slot moves logits by >> 1e-2.
    void decodeMatchesPrefill_data()
    {
        QTest::addColumn<QString>("folder");
        for (const std::string &folder : modelFolders())
            QTest::newRow(folder.c_str()) << QString::fromStdString(folder);
    }
    void decodeMatchesPrefill()
    {
        QFETCH(QString, folder);
        const auto g = test::readJson(test::fixture("golden/" + folder.toStdString() + "/logits/F32_kvf32_a.json"));
        const std::vector<int32_t> tokens = g["tokens"].get<std::vector<int32_t>>();
        auto m = model(folder.toStdString(), "F32");
        const int64_t V = m->config.vocabSize;
        Session batch(m, m_device, {int64_t(tokens.size()), DType::F32});
        const std::vector<float> all = batch.prefillAll(tokens);
        Session step(m, m_device, {int64_t(tokens.size()), DType::F32});
        double worst = 0;
        for (size_t t = 0; t < tokens.size(); ++t) {
            const std::vector<float> &row = step.decode(tokens[t]);
            for (int64_t v = 0; v < V; ++v)
                worst = std::max(worst, std::abs(double(row[size_t(v)]) - all[t * V + v]));
        }
        qInfo("%s: decode vs prefill max|dlogit| %.3g", qPrintable(folder), worst);
        QVERIFY(worst <= 1e-4);
    }

    void greedy_data()
    {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QString>("file");
        for (const std::string &folder : modelFolders())
            for (const fs::path &f : jsonFiles(test::fixture("golden/" + folder + "/greedy")))
                QTest::newRow((folder + "/" + f.filename().string()).c_str())
                    << QString::fromStdString(folder) << QString::fromStdString(f.filename().string());
    }
    void greedy()
    {
        QFETCH(QString, folder);
        QFETCH(QString, file);
        const std::string type = file.toStdString().substr(0, file.size() - 5);
        const auto g = test::readJson(test::fixture("golden/" + folder.toStdString() + "/greedy/" + file.toStdString()));
        // The logit bound of this family (see the banner), from its logits files.
        double bound = 2e-3;
        if (!type.ends_with("_kvf32")) {
            bound = 0;
            for (const auto &[key, ex] : m_exact)
                if (key.starts_with(folder.toStdString() + "/" + type + "_") &&
                    key.size() == folder.size() + 1 + type.size() + 7) // "<type>_<x>.json"
                    bound = std::max(bound, 1.5 * ex.dlogit);
            QVERIFY2(bound > 0, "no crosscheck entry for this type");
        }
        const auto prompt = g["prompt_tokens"].get<std::vector<int32_t>>();
        const auto want = g["generated_tokens"].get<std::vector<int32_t>>();
        size_t mustMatch = 0;
        while (mustMatch < want.size() && g["steps"][mustMatch]["margin"].get<double>() >= 2 * bound)
            ++mustMatch;
        auto m = model(folder.toStdString(), type);
        Session s(m, m_device, {int64_t(prompt.size() + want.size()), DType::F32});
        GenerateOptions opt;
        opt.maxTokens = int(want.size());
        opt.sampler.temperature = 0;
        opt.useModelStopIds = false;
        const GenerateResult r = generate(s, prompt, opt);
        size_t same = 0;
        while (same < want.size() && same < r.ids.size() && r.ids[same] == want[same])
            ++same;
        qInfo("%-36s greedy: %zu of %zu equal, %zu required (margin >= %.3g)", qPrintable(folder + "/" + file), same,
              want.size(), mustMatch, 2 * bound);
        QVERIFY(same >= mustMatch);

        std::vector<int32_t> forced = prompt;
        forced.insert(forced.end(), want.begin(), want.end() - 1);
        Session tf(m, m_device, {int64_t(forced.size()), DType::F32});
        const std::vector<float> all = tf.prefillAll(forced);
        const int64_t V = m->config.vocabSize;
        double worstGap = 0;
        for (size_t i = 0; i < want.size(); ++i) {
            const float *row = all.data() + (prompt.size() - 1 + i) * V;
            const float best = *std::max_element(row, row + V);
            worstGap = std::max(worstGap, double(best - row[want[i]]));
        }
        qInfo("%-36s teacher-forced: worst gap to our best logit %.3g (bound %.3g)", qPrintable(folder + "/" + file),
              worstGap, 2 * bound);
        QVERIFY(worstGap <= 2 * bound);
    }
};

QTEST_GUILESS_MAIN(TestGoldenLogits)
#include "tst_golden_logits.moc"
