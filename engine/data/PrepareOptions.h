// PrepareOptions: how prepareDataset() runs (not what it produces, so none of this is
// part of the cache key): threads, progress and cancellation, and what the cache said.
#pragma once

#include "data/DatasetSpec.h"

#include <cstdint>
#include <functional>
#include <string>

namespace lathe {

struct PrepareOptions
{
    int threads = 0; // <= 0: all hardware threads
    // Called with (bytes read, file size) as the file is read; false cancels (Error).
    std::function<bool(int64_t, int64_t)> progress;
    // When set, receives why the cache was not used ("missing", "damaged: ...").
    std::string *cacheStatus = nullptr;
};

// prepareDataset() with run options; the three-argument form uses the defaults.
PreparedSplits prepareDataset(const DatasetSpec &spec, const Tokenizer &tokenizer, const std::string &modelChatTemplate,
                              const PrepareOptions &options);

} // namespace lathe
