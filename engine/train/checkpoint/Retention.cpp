// Checkpoint retention (see Retention.h).
#include "train/checkpoint/Retention.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace lathe {

namespace {

namespace fs = std::filesystem;

// "checkpoint-123" -> 123; nullopt for anything else (checkpoint-5.tmp, notes, ...).
std::optional<int64_t> stepOf(const std::string &name)
{
    constexpr size_t kPrefix = 11; // "checkpoint-"
    if (name.rfind("checkpoint-", 0) != 0 || name.size() == kPrefix || name.size() > kPrefix + 15)
        return std::nullopt;
    for (size_t i = kPrefix; i < name.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(name[i])))
            return std::nullopt;
    return std::stoll(name.substr(kPrefix));
}

} // namespace

std::vector<CheckpointFolder> listCheckpoints(const std::string &runDir)
{
    std::vector<CheckpointFolder> out;
    std::error_code ec;
    if (!fs::is_directory(runDir, ec))
        return out;
    for (const auto &e : fs::directory_iterator(runDir, ec)) {
        const auto step = stepOf(e.path().filename().string());
        if (step && fs::exists(e.path() / "trainer_state.json", ec))
            out.push_back({*step, (fs::path(runDir) / e.path().filename()).string()});
    }
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.step < b.step; });
    return out;
}

std::vector<CheckpointFolder> checkpointsToDelete(const std::vector<CheckpointFolder> &folders, int64_t keep,
                                                  int64_t newestStep, std::optional<int64_t> bestStep)
{
    std::vector<CheckpointFolder> mine;
    for (const CheckpointFolder &f : folders)
        if (f.step <= newestStep)
            mine.push_back(f);
    std::sort(mine.begin(), mine.end(), [](const auto &a, const auto &b) { return a.step > b.step; });
    std::vector<CheckpointFolder> out;
    if (keep <= 0)
        return out;
    for (size_t i = size_t(std::min<int64_t>(keep, int64_t(mine.size()))); i < mine.size(); ++i)
        if (!bestStep || mine[i].step != *bestStep)
            out.push_back(mine[i]);
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.step < b.step; });
    return out;
}

std::vector<std::string> pruneCheckpoints(const std::string &runDir, int64_t keep, int64_t newestStep,
                                          std::optional<int64_t> bestStep)
{
    std::vector<std::string> deleted;
    for (const CheckpointFolder &f : checkpointsToDelete(listCheckpoints(runDir), keep, newestStep, bestStep)) {
        std::error_code ec;
        const fs::path aside = f.path + ".deleting";
        fs::remove_all(aside, ec);
        fs::rename(f.path, aside, ec);
        if (ec)
            continue;
        deleted.push_back(f.path);
        fs::remove_all(aside, ec); // a leftover .deleting folder is invisible to resume
    }
    return deleted;
}

} // namespace lathe
