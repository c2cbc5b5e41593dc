// Checkpoint retention: which checkpoint-N folders of a run folder to keep (checkpoint.keep
// in the run spec) and deleting the rest. A long run with frequent saves would otherwise
// fill the disk; the newest few are what a resume needs, and the best by evaluation is
// what a user wants to export. Folders are deleted by renaming them to
// checkpoint-N.deleting first, so a crash mid-delete never leaves a half checkpoint under
// a name resume or export would pick up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

struct CheckpointFolder
{
    int64_t step = 0;
    std::string path; // runDir / "checkpoint-{step}", spelled as saveCheckpoint returns it
};

// The complete checkpoint folders in runDir (those with a trainer state), by step. Temporary
// (.tmp, .old, .deleting) folders are skipped. An absent folder gives an empty list.
std::vector<CheckpointFolder> listCheckpoints(const std::string &runDir);

// The folders to delete so that only the newest `keep` with a step <= newestStep remain,
// plus bestStep when given. Folders above newestStep belong to another timeline (a run
// resumed from an earlier checkpoint) and are left alone; keep 0 deletes nothing.
std::vector<CheckpointFolder> checkpointsToDelete(const std::vector<CheckpointFolder> &folders, int64_t keep,
                                                  int64_t newestStep, std::optional<int64_t> bestStep);

// Applies checkpointsToDelete to runDir and returns the paths deleted. A folder that cannot
// be moved aside is kept and not listed (never fails the run: it only costs disk).
std::vector<std::string> pruneCheckpoints(const std::string &runDir, int64_t keep, int64_t newestStep,
                                          std::optional<int64_t> bestStep);

} // namespace lathe
