// Process identities from /proc (see ProcessIdentity.h).
#include "jobs/ProcessIdentity.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace lathe::jobs {

namespace {

std::string bootId()
{
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id.empty() ? "no-boot-id" : id;
}

} // namespace

ProcessIdentity processIdentity(int64_t pid)
{
    ProcessIdentity id{pid, {}};
    if (pid <= 0)
        return id;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line))
        return id;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are
    // counted from the last ')'. state is field 3, starttime field 22.
    const size_t close = line.rfind(')');
    if (close == std::string::npos)
        return id;
    std::istringstream rest(line.substr(close + 1));
    std::vector<std::string> fields;
    for (std::string f; rest >> f && fields.size() < 20;)
        fields.push_back(f);
    if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X")
        return id; // a zombie has finished: its jobs are not running any more
    id.token = bootId() + "/" + fields[19];
    return id;
}

ProcessIdentity currentProcess()
{
    return processIdentity(int64_t(::getpid()));
}

bool isAlive(const ProcessIdentity &identity)
{
    if (identity.pid <= 0 || identity.token.empty())
        return false;
    return processIdentity(identity.pid).token == identity.token;
}

} // namespace lathe::jobs
