// lathe-cli merge: folds a PEFT LoRA adapter into its base model (W' = W + s·B·A, the base
// dequantised to f32) and writes the merged model as GGUF or a Hugging Face folder.
#include "CliCommon.h"
#include "Commands.h"
#include "core/DType.h"
#include "core/ThreadPool.h"
#include "train/merge/MergeLora.h"

#include <cstdio>

namespace lathe::cli {

int runMerge(const Args &argv)
{
    ArgParser args("merge", "--model MODEL --adapter DIR --out PATH [--type T]",
                   "Merges a LoRA adapter (a PEFT folder: adapter_config.json + adapter_model.safetensors,\n"
                   "e.g. a training checkpoint) into MODEL and writes the result: a GGUF file when PATH\n"
                   "ends in .gguf, else a Hugging Face folder. The adapter must have been made for MODEL.");
    args.option("model", "MODEL", "base model: GGUF file, Hugging Face folder or llama2.c .bin")
        .option("adapter", "DIR", "adapter folder")
        .option("out", "PATH", "output .gguf file or folder")
        .option("type", "T", "type of the merged matrices: f32, f16, bf16 (GGUF also q8_0, q4_0, ...)", "f32")
        .option("threads", "N", "CPU threads (0: all)", "0");
    if (!args.parse(argv))
        return 0;
    for (const char *required : {"model", "adapter", "out"})
        if (!args.has(required))
            throw UsageError(std::string("--") + required + " is required");
    const auto type = dtypeFromName(args.value("type"));
    if (!type)
        throw UsageError("--type: unknown type '" + args.value("type") + "'");
    ThreadPool pool(threadsOption(args));
    const MergeReport r = mergeLoraToFile(args.value("model"), args.value("adapter"), args.value("out"), *type, &pool);
    for (const std::string &n : r.notes)
        std::printf("note: %s\n", n.c_str());
    std::printf("merged %lld matrices (scaling %g) into %s\n", (long long)r.matrices, r.scaling,
                args.value("out").c_str());
    return 0;
}

} // namespace lathe::cli
