// Session: the KV cache position bookkeeping around Transformer::forward.
#include "infer/Session.h"

#include "core/Error.h"

namespace lathe {

namespace {
int64_t contextFor(const LoadedModel &model, const SessionOptions &options)
{
    if (options.contextLength < 0)
        fail("session: context length " + std::to_string(options.contextLength) + " is negative");
    if (options.contextLength > 0)
        return options.contextLength;
    if (model.config.contextLength <= 0)
        fail("session: the model states no context length; set one");
    return model.config.contextLength;
}
} // namespace

Session::Session(std::shared_ptr<const LoadedModel> model, std::shared_ptr<Device> device,
                 const SessionOptions &options)
    : m_model(std::move(model)), m_device(std::move(device)),
      m_transformer(*m_device, m_model->config, m_model->weights),
      m_cache(*m_device, m_model->config, contextFor(*m_model, options), options.kvType)
{
}

const std::vector<float> &Session::prefill(std::span<const int32_t> tokens)
{
    m_transformer.forward(tokens, m_cache.size(), m_cache, LogitsMode::LastOnly, m_logits);
    return m_logits;
}

const std::vector<float> &Session::decode(int32_t token)
{
    return prefill(std::span<const int32_t>(&token, 1));
}

const std::vector<float> &Session::prefillAll(std::span<const int32_t> tokens)
{
    m_transformer.forward(tokens, m_cache.size(), m_cache, LogitsMode::All, m_logits);
    return m_logits;
}

} // namespace lathe
