// Building the training weights from a loaded base (see TrainWeights.h).
#include "train/model/TrainWeights.h"

#include "core/Error.h"
#include "core/Quant.h"
#include "infer/Rng.h"
#include "model/WeightNames.h"

#include <cmath>

namespace lathe::train {

namespace {

const TensorView &tensor(const Weights &w, const std::string &name, const std::vector<int64_t> &shape)
{
    const TensorView &t = w.get(name);
    if (t.shape != shape)
        fail("tensor " + name + ": shape " + shapeString(t.shape) + ", expected " + shapeString(shape));
    const int64_t cols = shape.back();
    if (t.data == nullptr || t.bytes < size_t(t.numel() / cols) * rowBytes(t.dtype, cols))
        fail("tensor " + name + ": " + std::to_string(t.bytes) + " bytes, too few for its shape");
    return t;
}

template <class Real>
std::vector<Real> readAll(const TensorView &t)
{
    const int64_t cols = t.cols(), rows = t.rows();
    std::vector<float> row(static_cast<size_t>(cols));
    std::vector<Real> out(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
        dequantizeRow(t.dtype, t.row(r), row.data(), cols);
        std::copy(row.begin(), row.end(), out.begin() + r * cols);
    }
    return out;
}

template <class Real>
std::vector<Real> readVector(const Weights &w, const std::string &name, int64_t n)
{
    return readAll<Real>(tensor(w, name, {n}));
}

FrozenMatrix frozen(const TensorView &t, BaseFormat f, bool doubleQuant, bool isLayerMatrix)
{
    switch (f) {
    case BaseFormat::AsLoaded: return FrozenMatrix::view(t);
    case BaseFormat::F32: return FrozenMatrix::convert(t, DType::F32);
    case BaseFormat::F16: return FrozenMatrix::convert(t, DType::F16);
    case BaseFormat::BF16: return FrozenMatrix::convert(t, DType::BF16);
    case BaseFormat::Q8_0: return FrozenMatrix::convert(t, DType::Q8_0);
    case BaseFormat::Nf4: // QLoRA quantises the decoder's linears; embedding and head stay 16-bit
        return isLayerMatrix ? FrozenMatrix::convert(t, DType::NF4, doubleQuant) : FrozenMatrix::convert(t, DType::BF16);
    }
    fail("baseFormat: unknown value " + std::to_string(int(f)));
}

void validateOptions(const ModelConfig &c, const TrainModelOptions &o)
{
    if (o.mode != TrainMode::Lora && o.mode != TrainMode::Full)
        fail("mode: unknown value " + std::to_string(int(o.mode)));
    if (o.baseFormat > BaseFormat::Nf4)
        fail("baseFormat: unknown value " + std::to_string(int(o.baseFormat)));
    if (o.precision > ComputePrecision::F16)
        fail("precision: unknown value " + std::to_string(int(o.precision)));
    if (o.mode != TrainMode::Lora)
        return;
    if (o.lora.rank < 1)
        fail("lora.rank: must be >= 1, got " + std::to_string(o.lora.rank));
    if (o.lora.rank > 65536)
        fail("lora.rank: " + std::to_string(o.lora.rank) + " is absurd (at most 65536)");
    if (!std::isfinite(o.lora.alpha))
        fail("lora.alpha: must be finite");
    if (!(o.lora.dropout >= 0.0 && o.lora.dropout < 1.0))
        fail("lora.dropout: must be in [0, 1), got " + std::to_string(o.lora.dropout));
    loraTargets(o.lora);
}

template <class Real>
TrainParam<Real> makeParam(std::string name, std::vector<int64_t> shape, std::vector<Real> value)
{
    TrainParam<Real> p;
    p.name = std::move(name);
    p.shape = std::move(shape);
    p.grad.assign(value.size(), Real(0));
    p.value = std::move(value);
    return p;
}

} // namespace

std::array<bool, kModules> loraTargets(const LoraSpec &spec)
{
    std::array<bool, kModules> on{};
    const auto &names = loraModuleNames();
    for (const std::string &t : spec.targets) {
        if (t == "all-linear") {
            on.fill(true);
            continue;
        }
        bool found = false;
        for (int m = 0; m < kModules; ++m)
            if (names[size_t(m)] == t) {
                on[size_t(m)] = true;
                found = true;
            }
        if (!found)
            fail("lora.targets: unknown module '" + t + "' (expected q_proj k_proj v_proj o_proj gate_proj up_proj "
                 "down_proj or all-linear)");
    }
    return on;
}

template <class Real>
int64_t TrainWeights<Real>::frozenBytes() const
{
    int64_t n = embedding.bytes() + (tied ? 0 : output.bytes()) + int64_t(outputNorm.size() * sizeof(Real));
    for (const auto &layer : matrices)
        for (const FrozenMatrix &m : layer)
            n += m.bytes();
    for (const Vectors &v : vectors)
        n += int64_t((v.attnNorm.size() + v.ffnNorm.size() + v.qNorm.size() + v.kNorm.size() + v.bq.size() +
                      v.bk.size() + v.bv.size()) * sizeof(Real));
    return n;
}

template <class Real>
void buildTrainWeights(const ModelConfig &c, const Weights &base, const TrainModelOptions &o, TrainWeights<Real> &w)
{
    validateOptions(c, o);
    const int64_t C = c.dim, V = c.vocabSize, D = c.headDim;
    const int64_t qDim = int64_t(c.nHeads) * D, kvDim = int64_t(c.nKvHeads) * D;
    w.full = o.mode == TrainMode::Full;
    w.tied = base.find("output.weight") == nullptr; // as the inference path decides
    const int L = c.nLayers;

    if (w.full) {
        ModelConfig shapeConfig = c;
        shapeConfig.tiedEmbeddings = w.tied;
        for (const ExpectedTensor &e : expectedTensors(shapeConfig))
            w.params.push_back(makeParam<Real>(e.name, e.shape, readAll<Real>(tensor(base, e.name, e.shape))));
        auto index = [&](const std::string &name) {
            for (size_t i = 0; i < w.params.size(); ++i)
                if (w.params[i].name == name)
                    return int(i);
            return -1;
        };
        w.embeddingParam = index("token_embd.weight");
        w.outputNormParam = index("output_norm.weight");
        w.outputParam = w.tied ? w.embeddingParam : index("output.weight");
        w.fullIndex.resize(size_t(L));
        for (int i = 0; i < L; ++i) {
            auto &f = w.fullIndex[size_t(i)];
            for (int m = 0; m < kModules; ++m)
                f.matrices[size_t(m)] = index(layerTensorName(i, moduleTensorSuffix(m)));
            f.attnNorm = index(layerTensorName(i, "attn_norm.weight"));
            f.ffnNorm = index(layerTensorName(i, "ffn_norm.weight"));
            f.qNorm = index(layerTensorName(i, "attn_q_norm.weight"));
            f.kNorm = index(layerTensorName(i, "attn_k_norm.weight"));
            f.bq = index(layerTensorName(i, "attn_q.bias"));
            f.bk = index(layerTensorName(i, "attn_k.bias"));
            f.bv = index(layerTensorName(i, "attn_v.bias"));
        }
        return;
    }

    const BaseFormat f = o.baseFormat;
    w.embedding = frozen(tensor(base, "token_embd.weight", {V, C}), f, o.doubleQuant, false);
    if (!w.tied)
        w.output = frozen(tensor(base, "output.weight", {V, C}), f, o.doubleQuant, false);
    w.outputNorm = readVector<Real>(base, "output_norm.weight", C);
    w.matrices.resize(size_t(L));
    w.vectors.resize(size_t(L));
    for (int i = 0; i < L; ++i) {
        for (int m = 0; m < kModules; ++m) {
            const auto [out, in] = moduleShape(c, m);
            w.matrices[size_t(i)][size_t(m)] =
                frozen(tensor(base, layerTensorName(i, moduleTensorSuffix(m)), {out, in}), f, o.doubleQuant, true);
        }
        auto &v = w.vectors[size_t(i)];
        v.attnNorm = readVector<Real>(base, layerTensorName(i, "attn_norm.weight"), C);
        v.ffnNorm = readVector<Real>(base, layerTensorName(i, "ffn_norm.weight"), C);
        if (c.qkNorm) {
            v.qNorm = readVector<Real>(base, layerTensorName(i, "attn_q_norm.weight"), D);
            v.kNorm = readVector<Real>(base, layerTensorName(i, "attn_k_norm.weight"), D);
        }
        if (c.qkvBias) {
            v.bq = readVector<Real>(base, layerTensorName(i, "attn_q.bias"), qDim);
            v.bk = readVector<Real>(base, layerTensorName(i, "attn_k.bias"), kvDim);
            v.bv = readVector<Real>(base, layerTensorName(i, "attn_v.bias"), kvDim);
        }
    }

    // Adapters: A ~ U(-1/sqrt(in), 1/sqrt(in)) (PEFT: kaiming_uniform_(a = sqrt(5))),
    // drawn from one stream in parameter order; B = 0.
    const std::array<bool, kModules> on = loraTargets(o.lora);
    const int64_t r = o.lora.rank;
    Rng rng(o.seed);
    w.loraA.assign(size_t(L), {});
    w.loraB.assign(size_t(L), {});
    for (int i = 0; i < L; ++i)
        for (int m = 0; m < kModules; ++m) {
            w.loraA[size_t(i)][size_t(m)] = w.loraB[size_t(i)][size_t(m)] = -1;
            if (!on[size_t(m)])
                continue;
            const auto [out, in] = moduleShape(c, m);
            const double bound = 1.0 / std::sqrt(double(in));
            std::vector<Real> a(size_t(r * in));
            for (Real &x : a)
                x = Real((2.0 * rng.uniform() - 1.0) * bound);
            const std::string prefix = "layers." + std::to_string(i) + "." + loraModuleNames()[size_t(m)];
            w.loraA[size_t(i)][size_t(m)] = int(w.params.size());
            w.params.push_back(makeParam<Real>(prefix + ".lora_A", {r, in}, std::move(a)));
            w.loraB[size_t(i)][size_t(m)] = int(w.params.size());
            w.params.push_back(makeParam<Real>(prefix + ".lora_B", {out, r}, std::vector<Real>(size_t(out * r))));
        }
}

template <class Real>
LayerView<Real> layerView(TrainWeights<Real> &w, const ModelConfig &c, const TrainModelOptions &o, int i, bool withGrads)
{
    LayerView<Real> v;
    v.index = i;
    auto value = [&](int p) -> const Real * { return p < 0 ? nullptr : w.params[size_t(p)].value.data(); };
    auto grad = [&](int p) -> Real * { return p < 0 || !withGrads ? nullptr : w.params[size_t(p)].grad.data(); };
    auto vec = [](const std::vector<Real> &x) -> const Real * { return x.empty() ? nullptr : x.data(); };
    for (int m = 0; m < kModules; ++m) {
        ModuleView<Real> &mv = v.mod[m];
        const auto [out, in] = moduleShape(c, m);
        mv.w.out = out;
        mv.w.in = in;
        if (w.full) {
            const int p = w.fullIndex[size_t(i)].matrices[size_t(m)];
            mv.w.dense = value(p);
            mv.dW = grad(p);
        } else {
            mv.w.frozen = &w.matrices[size_t(i)][size_t(m)];
            const int a = w.loraA[size_t(i)][size_t(m)], b = w.loraB[size_t(i)][size_t(m)];
            if (a >= 0) {
                mv.hasLora = true;
                mv.lora = {value(a), value(b), o.lora.rank, in, out, Real(o.lora.scaling())};
                mv.dA = grad(a);
                mv.dB = grad(b);
            }
        }
    }
    if (w.full) {
        const auto &f = w.fullIndex[size_t(i)];
        v.attnNorm = value(f.attnNorm);
        v.ffnNorm = value(f.ffnNorm);
        v.qNorm = value(f.qNorm);
        v.kNorm = value(f.kNorm);
        v.dAttnNorm = grad(f.attnNorm);
        v.dFfnNorm = grad(f.ffnNorm);
        v.dQNorm = grad(f.qNorm);
        v.dKNorm = grad(f.kNorm);
        v.mod[kQ].bias = value(f.bq);
        v.mod[kK].bias = value(f.bk);
        v.mod[kV].bias = value(f.bv);
        v.mod[kQ].dBias = grad(f.bq);
        v.mod[kK].dBias = grad(f.bk);
        v.mod[kV].dBias = grad(f.bv);
    } else {
        const auto &f = w.vectors[size_t(i)];
        v.attnNorm = vec(f.attnNorm);
        v.ffnNorm = vec(f.ffnNorm);
        v.qNorm = vec(f.qNorm);
        v.kNorm = vec(f.kNorm);
        v.mod[kQ].bias = vec(f.bq);
        v.mod[kK].bias = vec(f.bk);
        v.mod[kV].bias = vec(f.bv);
    }
    return v;
}

template struct TrainWeights<float>;
template struct TrainWeights<double>;
template void buildTrainWeights<float>(const ModelConfig &, const Weights &, const TrainModelOptions &,
                                       TrainWeights<float> &);
template void buildTrainWeights<double>(const ModelConfig &, const Weights &, const TrainModelOptions &,
                                        TrainWeights<double> &);
template LayerView<float> layerView<float>(TrainWeights<float> &, const ModelConfig &, const TrainModelOptions &, int,
                                           bool);
template LayerView<double> layerView<double>(TrainWeights<double> &, const ModelConfig &, const TrainModelOptions &,
                                             int, bool);

} // namespace lathe::train
