// Saving and loading checkpoint folders (see Checkpoint.h for the layout).
#include "train/checkpoint/Checkpoint.h"

#include "core/Error.h"
#include "model/hf/SafetensorsFile.h"
#include "model/hf/SafetensorsWriter.h"
#include "train/checkpoint/FileIo.h"
#include "train/checkpoint/ModelExport.h"
#include "train/checkpoint/PeftAdapter.h"

#include <cctype>
#include <filesystem>

namespace lathe {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char *kStateJson = "trainer_state.json";
constexpr const char *kStateTensors = "trainer_state.safetensors";
constexpr const char *kFormat = "lathe-trainer-state";
constexpr int kVersion = 1;
constexpr size_t kMaxStateJson = size_t(256) << 20;

json stateToJson(const TrainerState &s)
{
    return {{"step", s.step},
            {"tokens_seen", s.tokensSeen},
            {"data_cursor", {{"epoch", s.cursor.epoch}, {"position", s.cursor.position}}},
            {"data_hash", s.dataHash},
            {"optimizer", {{"steps", s.optimizerSteps}}},
            {"loss_scale", {{"scale", s.lossScale}, {"good_steps", s.goodSteps}, {"skipped_steps", s.skippedSteps}}},
            {"schedule",
             {{"kind", scheduleKindName(s.schedule.kind)},
              {"peak_lr", s.schedule.peakLr},
              {"warmup_steps", s.schedule.warmupSteps},
              {"total_steps", s.schedule.totalSteps}}},
            {"rng", {{"seed", s.seed}, {"streams", "splitmix64(seed, step, micro-batch); shuffles by (seed, epoch)"}}},
            {"elapsed_seconds", s.elapsedSeconds},
            {"model", s.model.toJson()},
            {"spec", s.spec},
            {"history", s.history}};
}

TrainerState stateFromJson(const json &j, const std::string &where)
{
    TrainerState s;
    try {
        s.step = j.at("step").get<int64_t>();
        s.tokensSeen = j.at("tokens_seen").get<int64_t>();
        s.cursor.epoch = j.at("data_cursor").at("epoch").get<int64_t>();
        s.cursor.position = j.at("data_cursor").at("position").get<int64_t>();
        s.dataHash = j.at("data_hash").get<std::string>();
        s.optimizerSteps = j.at("optimizer").at("steps").get<int64_t>();
        s.lossScale = j.at("loss_scale").at("scale").get<double>();
        s.goodSteps = j.at("loss_scale").at("good_steps").get<int64_t>();
        s.skippedSteps = j.at("loss_scale").at("skipped_steps").get<int64_t>();
        const json &sc = j.at("schedule");
        const auto kind = scheduleKindFromName(sc.at("kind").get<std::string>());
        if (!kind)
            fail("schedule.kind: unknown schedule " + sc.at("kind").dump());
        s.schedule.kind = *kind;
        s.schedule.peakLr = sc.at("peak_lr").get<double>();
        s.schedule.warmupSteps = sc.at("warmup_steps").get<int64_t>();
        s.schedule.totalSteps = sc.at("total_steps").get<int64_t>();
        s.seed = j.at("rng").at("seed").get<uint64_t>();
        s.elapsedSeconds = j.at("elapsed_seconds").get<double>();
        s.spec = j.at("spec");
        s.history = j.at("history");
    } catch (const json::exception &e) {
        fail(where + ": " + e.what());
    }
    if (s.step < 0 || s.tokensSeen < 0 || s.cursor.epoch < 0 || s.cursor.position < 0 || s.optimizerSteps < 0 ||
        s.optimizerSteps > s.step || !(s.lossScale > 0.0) || !s.history.is_array())
        fail(where + ": the recorded counters are not consistent");
    s.model = ModelIdentity::fromJson(j.at("model"), where);
    return s;
}

WrittenFile writeStateTensors(const std::string &dir, const CheckpointWrite &w)
{
    SafetensorsWriter st;
    const std::vector<TrainParam<float>> &params = *w.params;
    for (size_t i = 0; i < params.size(); ++i) {
        const TrainParam<float> &p = params[i];
        const std::vector<int64_t> shape{p.size()};
        st.addTensor("adam.m." + p.name, DType::F32, shape, w.optimizer->firstMoments()[i].data(), size_t(p.size()) * 4);
        st.addTensor("adam.v." + p.name, DType::F32, shape, w.optimizer->secondMoments()[i].data(),
                     size_t(p.size()) * 4);
        if (w.mode == TrainMode::Full)
            st.addTensor("param." + p.name, DType::F32, p.shape, p.value.data(), size_t(p.size()) * 4);
    }
    st.setMetadata("format", kFormat);
    const std::vector<uint8_t> bytes = st.serialize();
    writeFileAtomic((fs::path(dir) / kStateTensors).string(), bytes.data(), bytes.size());
    return {kStateTensors, int64_t(bytes.size()), fnv1a64Hex(bytes.data(), bytes.size())};
}

void writeFullModel(const std::string &dir, const CheckpointWrite &w)
{
    std::map<std::string, F32Tensor> trained;
    for (const TrainParam<float> &p : *w.params)
        trained[p.name] = {p.shape, p.value};
    const Weights weights = overlayWeights(w.base->weights, std::move(trained));
    const bool gguf = w.base->format == ModelFormat::Gguf || w.base->format == ModelFormat::Llama2c;
    writeModelAs(*w.base, weights, (fs::path(dir) / (gguf ? "model.gguf" : "model")).string(), DType::F32);
}

std::string checksumOf(json j)
{
    j.erase("checksum");
    return fnv1a64Hex(j.dump());
}

// Moves dst out of the way, renames src into place, then removes the old one.
void replaceDirectory(const fs::path &src, const fs::path &dst)
{
    std::error_code ec;
    const fs::path old = dst.string() + ".old";
    fs::remove_all(old, ec);
    const bool hadOld = fs::exists(dst, ec);
    if (hadOld) {
        fs::rename(dst, old, ec);
        if (ec)
            fail("cannot move " + dst.string() + " aside: " + ec.message());
    }
    fs::rename(src, dst, ec);
    if (ec) {
        if (hadOld)
            fs::rename(old, dst);
        fail("cannot rename " + src.string() + " to " + dst.string() + ": " + ec.message());
    }
    syncDirectory(dst.parent_path().string());
    if (hadOld)
        fs::remove_all(old, ec);
}

void checkFile(const std::string &dir, const json &entry)
{
    const std::string name = entry.at("name").get<std::string>();
    const int64_t bytes = entry.at("bytes").get<int64_t>();
    if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos)
        fail("a recorded file name '" + name + "' is not a plain file name");
    const std::string path = (fs::path(dir) / name).string();
    std::error_code ec;
    if (!fs::exists(path, ec))
        fail(name + " is missing");
    const auto size = fs::file_size(path, ec);
    if (ec || int64_t(size) != bytes)
        fail(name + " is corrupt: " + std::to_string(ec ? 0 : size) + " bytes, " + std::to_string(bytes) +
             " were written (truncated or replaced)");
    const std::vector<uint8_t> data = readFileBytes(path, size_t(bytes));
    if (fnv1a64Hex(data.data(), data.size()) != entry.at("checksum").get<std::string>())
        fail(name + " is corrupt: its checksum differs from the one recorded when it was written "
                    "(the file was edited or damaged)");
}

std::vector<float> f32Values(const TensorView &t, const std::string &where)
{
    if (t.dtype != DType::F32)
        fail(where + ": tensor " + t.name + " is " + dtypeName(t.dtype) + ", F32 expected");
    const float *p = static_cast<const float *>(t.data);
    return std::vector<float>(p, p + t.numel());
}

} // namespace

std::string saveCheckpoint(const std::string &runDir, const CheckpointWrite &w)
{
    if (!w.base || !w.params || !w.optimizer)
        fail("saveCheckpoint: incomplete request");
    const fs::path final = fs::path(runDir) / ("checkpoint-" + std::to_string(w.state.step));
    const fs::path tmp = final.string() + ".tmp";
    return withContext("saving checkpoint " + final.string(), [&] {
        std::error_code ec;
        fs::create_directories(runDir, ec);
        if (ec)
            fail("cannot create " + runDir + ": " + ec.message());
        fs::remove_all(tmp, ec);
        if (!fs::create_directory(tmp, ec))
            fail("cannot create " + tmp.string() + (ec ? ": " + ec.message() : ""));
        try {
            std::vector<WrittenFile> files;
            if (w.mode == TrainMode::Lora)
                files = writePeftAdapter(tmp.string(), w.base->config, w.lora, w.baseModelName, *w.params);
            else
                writeFullModel(tmp.string(), w);
            files.push_back(writeStateTensors(tmp.string(), w));
            json j = stateToJson(w.state);
            j["format"] = kFormat;
            j["version"] = kVersion;
            j["mode"] = w.mode == TrainMode::Lora ? "lora" : "full";
            j["files"] = json::array();
            for (const WrittenFile &f : files)
                j["files"].push_back({{"name", f.name}, {"bytes", f.bytes}, {"checksum", f.checksum}});
            j["checksum"] = checksumOf(j);
            writeFileAtomic((tmp / kStateJson).string(), j.dump(1) + "\n");
            syncDirectory(tmp.string());
            replaceDirectory(tmp, final);
        } catch (...) {
            fs::remove_all(tmp, ec);
            throw;
        }
        return final.string();
    });
}

std::string resolveCheckpointDir(const std::string &dir)
{
    std::error_code ec;
    if (fs::exists(fs::path(dir) / kStateJson, ec))
        return dir;
    if (!fs::is_directory(dir, ec))
        fail(dir + ": no such checkpoint folder");
    int64_t best = -1;
    fs::path bestPath;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("checkpoint-", 0) != 0 || name.size() > 11 + 15 || name.size() == 11)
            continue;
        const std::string digits = name.substr(11);
        if (!std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit((unsigned char)c); }))
            continue; // checkpoint-N.tmp / .old: an interrupted save
        if (!fs::exists(e.path() / kStateJson, ec))
            continue;
        const int64_t n = std::stoll(digits);
        if (n > best) {
            best = n;
            bestPath = e.path();
        }
    }
    if (best < 0)
        fail(dir + ": no checkpoint here (neither " + kStateJson + " nor a checkpoint-N folder)");
    return bestPath.string();
}

LoadedCheckpoint loadCheckpoint(const std::string &dirIn, const ModelConfig &config, const ModelIdentity &current)
{
    const std::string dir = resolveCheckpointDir(dirIn);
    return withContext("checkpoint " + dir, [&] {
        LoadedCheckpoint c;
        c.dir = dir;
        const std::string statePath = (fs::path(dir) / kStateJson).string();
        json j;
        try {
            j = json::parse(readFileText(statePath, kMaxStateJson));
        } catch (const json::exception &e) {
            fail(std::string(kStateJson) + " is corrupt (not valid JSON: " + e.what() + ")");
        }
        if (!j.is_object() || j.value("format", "") != kFormat)
            fail(std::string(kStateJson) + " is not a Lathe trainer state");
        if (j.value("version", 0) != kVersion)
            fail(std::string(kStateJson) + ": version " + j.value("version", json()).dump() + " (this build reads " +
                 std::to_string(kVersion) + ")");
        if (!j.contains("checksum") || j["checksum"] != checksumOf(j))
            fail(std::string(kStateJson) + " is corrupt or was edited: its checksum does not match its content");
        c.state = stateFromJson(j, kStateJson);
        if (const std::string diff = c.state.model.differences(current); !diff.empty())
            fail("it was made for another model (" + c.state.model.path + "): " + diff + "; refusing to use it with " +
                 current.path);
        const std::string mode = j.value("mode", "");
        if (mode != "lora" && mode != "full")
            fail(std::string(kStateJson) + ": mode " + j.value("mode", json()).dump() + " is not lora or full");
        c.mode = mode == "lora" ? TrainMode::Lora : TrainMode::Full;
        try {
            for (const json &f : j.at("files"))
                checkFile(dir, f);
        } catch (const json::exception &e) {
            fail(std::string(kStateJson) + ": files: " + e.what());
        }
        auto tensors = SafetensorsFile::open((fs::path(dir) / kStateTensors).string());
        for (const TensorView &t : tensors->tensors()) {
            const std::string &n = t.name;
            if (n.rfind("adam.m.", 0) == 0)
                c.adamM[n.substr(7)] = f32Values(t, kStateTensors);
            else if (n.rfind("adam.v.", 0) == 0)
                c.adamV[n.substr(7)] = f32Values(t, kStateTensors);
            else if (n.rfind("param.", 0) == 0 && c.mode == TrainMode::Full)
                c.params[n.substr(6)] = f32Values(t, kStateTensors);
            else
                fail(std::string(kStateTensors) + ": unexpected tensor " + n);
        }
        if (c.mode == TrainMode::Lora) {
            PeftAdapter a = readPeftAdapter(dir, config);
            c.lora = a.lora;
            for (auto &[name, m] : a.matrices)
                c.params[name] = std::move(m.values);
        }
        return c;
    });
}

} // namespace lathe
