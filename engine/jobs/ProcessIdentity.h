// ProcessIdentity: who owns a running job, precisely enough to tell after a crash
// whether that owner is still alive. A pid alone is not enough (pids are reused), so a
// job also records a start token: the boot id and the process's start time in clock
// ticks since boot (/proc/PID/stat field 22). A process with that pid and that token is
// the owner; anything else means the owner is gone and the job was interrupted.
#pragma once

#include <cstdint>
#include <string>

namespace lathe::jobs {

struct ProcessIdentity
{
    int64_t pid = 0;
    std::string token;
};

// This process.
ProcessIdentity currentProcess();
// The identity of a live process by pid (token empty when there is no such process or
// it is a zombie).
ProcessIdentity processIdentity(int64_t pid);
// True when a live process has exactly this pid and token.
bool isAlive(const ProcessIdentity &identity);

} // namespace lathe::jobs
