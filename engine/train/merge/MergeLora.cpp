// Folding LoRA adapters into base weights (see MergeLora.h).
#include "train/merge/MergeLora.h"

#include "core/Error.h"
#include "core/Quant.h"
#include "core/ThreadPool.h"
#include "train/checkpoint/Checkpoint.h"
#include "train/checkpoint/ModelExport.h"

#include <algorithm>
#include <filesystem>
#include <map>

namespace lathe {

std::string loraTargetWeightName(int layer, const std::string &module)
{
    static const std::map<std::string, std::string> names{
        {"q_proj", "attn_q"},     {"k_proj", "attn_k"},   {"v_proj", "attn_v"},     {"o_proj", "attn_output"},
        {"gate_proj", "ffn_gate"}, {"up_proj", "ffn_up"}, {"down_proj", "ffn_down"}};
    auto it = names.find(module);
    if (it == names.end())
        fail("no linear module '" + module + "' in a decoder layer");
    return "blk." + std::to_string(layer) + "." + it->second + ".weight";
}

Weights mergeLoraWeights(const LoadedModel &base, const PeftAdapter &adapter, ThreadPool *pool)
{
    const ModelConfig &c = base.config;
    const double s = adapter.lora.scaling();
    const int64_t r = adapter.lora.rank;
    std::map<std::string, F32Tensor> merged;
    for (int l = 0; l < c.nLayers; ++l)
        for (const std::string &module : adapter.lora.targets) {
            const std::string wName = loraTargetWeightName(l, module);
            const TensorView &w = base.weights.get(wName);
            const auto a = adapter.matrices.find(loraParamName(l, module, 'A'));
            const auto b = adapter.matrices.find(loraParamName(l, module, 'B'));
            if (a == adapter.matrices.end() || b == adapter.matrices.end())
                fail("the adapter has no matrices for " + module + " of layer " + std::to_string(l));
            const int64_t out = w.rows(), in = w.cols();
            if (a->second.shape != std::vector<int64_t>{r, in} || b->second.shape != std::vector<int64_t>{out, r})
                fail("the adapter's " + module + " of layer " + std::to_string(l) + " does not fit " + wName + " " +
                     shapeString(w.shape));
            F32Tensor t{w.shape, std::vector<float>(size_t(out * in))};
            const float *A = a->second.values.data(), *B = b->second.values.data();
            float *W = t.values.data();
            auto rowsBody = [&](int64_t begin, int64_t end, int) {
                std::vector<double> acc(static_cast<size_t>(in));
                for (int64_t o = begin; o < end; ++o) {
                    dequantizeRow(w.dtype, w.row(o), W + o * in, in);
                    std::fill(acc.begin(), acc.end(), 0.0);
                    for (int64_t k = 0; k < r; ++k) {
                        const double bk = double(B[o * r + k]);
                        const float *ak = A + k * in;
                        for (int64_t i = 0; i < in; ++i)
                            acc[size_t(i)] += bk * double(ak[i]);
                    }
                    for (int64_t i = 0; i < in; ++i)
                        W[o * in + i] = float(double(W[o * in + i]) + s * acc[size_t(i)]);
                }
            };
            if (pool)
                pool->parallelFor(out, rowsBody, 8);
            else
                rowsBody(0, out, 0);
            merged[wName] = std::move(t);
        }
    return overlayWeights(base.weights, std::move(merged));
}

MergeReport mergeLoraToFile(const std::string &modelPath, const std::string &adapterDir, const std::string &out,
                            DType type, ThreadPool *pool)
{
    const LoadedModel base = loadModel(modelPath);
    // A run folder names its newest checkpoint.
    std::error_code ec;
    const std::string dir = std::filesystem::exists(std::filesystem::path(adapterDir) / "adapter_config.json", ec)
                                ? adapterDir
                                : resolveCheckpointDir(adapterDir);
    const PeftAdapter adapter = withContext("adapter " + dir, [&] { return readPeftAdapter(dir, base.config); });
    const Weights weights = mergeLoraWeights(base, adapter, pool);
    MergeReport report;
    report.matrices = int64_t(adapter.lora.targets.size()) * base.config.nLayers;
    report.scaling = adapter.lora.scaling();
    report.notes = withContext("writing " + out, [&] { return writeModelAs(base, weights, out, type); });
    return report;
}

} // namespace lathe
