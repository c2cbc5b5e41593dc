// Session: one sequence being run through one model on one device. Owns (shares) the
// loaded model, the device, the Transformer and the KV cache, and keeps the position.
// prefill() appends a batch, decode() one token; both return the logits of the last
// token. A session is used by one thread at a time.
#pragma once

#include "backend/Device.h"
#include "infer/KvCache.h"
#include "infer/Transformer.h"
#include "model/LoadedModel.h"

#include <memory>
#include <span>
#include <vector>

namespace lathe {

struct SessionOptions
{
    int64_t contextLength = 0; // positions in the KV cache; 0: the model's context length
    DType kvType = DType::F32; // F32 or F16 (llama.cpp's default cache rounding)
};

class Session
{
public:
    Session(std::shared_ptr<const LoadedModel> model, std::shared_ptr<Device> device,
            const SessionOptions &options = {});

    const ModelConfig &config() const { return m_transformer.config(); }
    const LoadedModel &model() const { return *m_model; }
    Device &device() const { return *m_device; }
    int64_t position() const { return m_cache.size(); }
    int64_t contextLength() const { return m_cache.capacity(); }
    int64_t remaining() const { return m_cache.capacity() - m_cache.size(); }

    // Appends tokens; returns the logits [V] after the last one (valid until the next call).
    // Throws Error "context of N tokens exceeded" when they do not fit (nothing is appended).
    const std::vector<float> &prefill(std::span<const int32_t> tokens);
    const std::vector<float> &decode(int32_t token);
    // Appends tokens and returns the logits after every one of them, [T, V].
    const std::vector<float> &prefillAll(std::span<const int32_t> tokens);

    void reset() { m_cache.clear(); }
    void rewind(int64_t position) { m_cache.truncate(position); }

private:
    std::shared_ptr<const LoadedModel> m_model;
    std::shared_ptr<Device> m_device;
    Transformer m_transformer;
    KvCache m_cache;
    std::vector<float> m_logits;
};

} // namespace lathe
