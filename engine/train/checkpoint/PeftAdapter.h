// PeftAdapter: LoRA adapters in Hugging Face PEFT's on-disk format, so that an adapter
// trained here loads with PeftModel.from_pretrained and one trained elsewhere loads here:
//   adapter_config.json        peft_type LORA, task_type CAUSAL_LM, r, lora_alpha,
//                              lora_dropout, target_modules, bias "none", use_rslora,
//                              fan_in_fan_out false, inference_mode true,
//                              base_model_name_or_path
//   adapter_model.safetensors  base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight
//                              [r, in] and ...lora_B.weight [out, r] (mlp.* for gate/up/down), F32
// Hugging Face checkpoints pair RoPE dims rotate-half; when the base model's q/k rows are
// interleaved (GGUF llama, llama2.c) the rows of q_proj/k_proj lora_B are reordered on
// the way out and back on the way in, so the file matches the HF base.
#pragma once

#include "train/LoraSpec.h"
#include "train/TrainModel.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lathe {

struct ModelConfig;

// "self_attn.q_proj" or "mlp.up_proj"; throws Error for an unknown module.
std::string peftModulePath(const std::string &module);
// The PEFT key of one adapter matrix ('A' or 'B').
std::string peftTensorKey(int layer, const std::string &module, char matrix);
// The TrainModel parameter name of the same matrix: "layers.{i}.{module}.lora_A".
std::string loraParamName(int layer, const std::string &module, char matrix);
// [r, in] for A and [out, r] for B, from the model's dimensions.
std::vector<int64_t> loraShape(const ModelConfig &config, const std::string &module, char matrix, int rank);

struct LoraMatrix
{
    std::vector<int64_t> shape;
    std::vector<float> values; // row-major, rows in the model's own q/k layout
};

struct PeftAdapter
{
    LoraSpec lora;
    std::string baseModelName;
    // Every matrix by TrainModel parameter name, for every layer and target.
    std::map<std::string, LoraMatrix> matrices;
};

struct WrittenFile
{
    std::string name;     // file name inside the folder
    int64_t bytes = 0;
    std::string checksum; // fnv1a64Hex of the bytes
};

// Writes the two files into dir (which must exist), each atomically. params are the LoRA
// parameters of a TrainModel with that config and spec (names as loraParamName()).
// Throws Error naming a missing or misshapen parameter.
std::vector<WrittenFile> writePeftAdapter(const std::string &dir, const ModelConfig &config, const LoraSpec &lora,
                                          const std::string &baseModelName,
                                          const std::vector<TrainParam<float>> &params);

// Reads and checks an adapter folder against the model it is meant for: known PEFT
// fields with valid values, every key a LoRA matrix of a target module and a layer the
// model has, shapes from the model's dimensions, nothing missing. F32, F16 and BF16
// tensors are accepted. Throws Error naming the file and the field or tensor.
PeftAdapter readPeftAdapter(const std::string &dir, const ModelConfig &config);

} // namespace lathe
