// Job rows and their guarded state changes (see JobRepository.h).
#include "store/JobRepository.h"

#include <iterator>

namespace lathe::store {

namespace {

const char *const kKindNames[] = {"train", "evaluate", "generate_batch", "export", "prepare_dataset"};
const char *const kStateNames[] = {"queued", "running", "paused", "completed", "failed", "cancelled", "interrupted"};
const char *const kResourceNames[] = {"gpu", "cpu"};

template <typename E, size_t N>
E parseName(const char *const (&names)[N], const std::string &text, const char *field)
{
    for (size_t i = 0; i < N; ++i)
        if (text == names[i])
            return E(i);
    std::string known;
    for (const char *n : names)
        known += (known.empty() ? "" : ", ") + std::string(n);
    fail(std::string(field) + ": unknown value '" + text + "' (expected one of " + known + ")");
}

const char *const kColumns = "id, kind, state, priority, resource, spec_json, run_id, progress, message, error, "
                             "pause_reason, request, owner_pid, owner_token, attempts, created_at, started_at, "
                             "finished_at, updated_at";

JobRecord readJob(const Statement &st)
{
    JobRecord j;
    int i = 0;
    j.id = st.columnInt(i++);
    j.kind = parseJobKind(st.columnText(i++));
    j.state = parseJobState(st.columnText(i++));
    j.priority = int(st.columnInt(i++));
    j.resource = parseJobResource(st.columnText(i++));
    j.specJson = st.columnText(i++);
    j.runId = st.columnOptInt(i++);
    j.progress = st.columnDouble(i++);
    j.message = st.columnText(i++);
    j.error = st.columnOptText(i++);
    j.pauseReason = st.columnOptText(i++);
    j.request = st.columnOptText(i++);
    j.ownerPid = st.columnOptInt(i++);
    j.ownerToken = st.columnOptText(i++);
    j.attempts = int(st.columnInt(i++));
    j.createdAt = st.columnDouble(i++);
    j.startedAt = st.columnOptDouble(i++);
    j.finishedAt = st.columnOptDouble(i++);
    j.updatedAt = st.columnDouble(i++);
    return j;
}

std::vector<JobRecord> readAll(Statement &st)
{
    std::vector<JobRecord> out;
    while (st.step())
        out.push_back(readJob(st));
    return out;
}

} // namespace

const char *jobKindName(JobKind kind) { return kKindNames[int(kind)]; }
const char *jobStateName(JobState state) { return kStateNames[int(state)]; }
const char *jobResourceName(JobResource r) { return kResourceNames[int(r)]; }
JobKind parseJobKind(const std::string &name) { return parseName<JobKind>(kKindNames, name, "job kind"); }
JobState parseJobState(const std::string &name) { return parseName<JobState>(kStateNames, name, "job state"); }
JobResource parseJobResource(const std::string &name)
{
    return parseName<JobResource>(kResourceNames, name, "job resource");
}

bool isTerminal(JobState state)
{
    return state == JobState::Completed || state == JobState::Failed || state == JobState::Cancelled;
}

int64_t JobRepository::insert(const JobRecord &job)
{
    const double now = nowSeconds();
    Statement st(m_db, "INSERT INTO jobs (kind, state, priority, resource, spec_json, run_id, message, created_at, "
                       "updated_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, jobKindName(job.kind)).bind(2, job.priority).bind(3, jobResourceName(job.resource));
    st.bind(4, job.specJson).bind(5, job.runId).bind(6, job.message);
    st.bind(7, job.createdAt > 0 ? job.createdAt : now).bind(8, now);
    st.exec();
    return m_db.lastInsertId();
}

std::optional<JobRecord> JobRepository::find(int64_t id)
{
    Statement st(m_db, std::string("SELECT ") + kColumns + " FROM jobs WHERE id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return readJob(st);
}

std::vector<JobRecord> JobRepository::list(const std::vector<JobState> &states, int limit)
{
    std::string where;
    for (JobState s : states)
        where += (where.empty() ? " WHERE state IN ('" : "','") + std::string(jobStateName(s));
    if (!where.empty())
        where += "')";
    Statement st(m_db, std::string("SELECT ") + kColumns + " FROM jobs" + where + " ORDER BY id DESC LIMIT ?");
    st.bind(1, int64_t(limit));
    return readAll(st);
}

std::vector<JobRecord> JobRepository::queued()
{
    Statement st(m_db, std::string("SELECT ") + kColumns + " FROM jobs WHERE state = 'queued' ORDER BY priority DESC, id");
    return readAll(st);
}

bool JobRepository::claim(int64_t id, int64_t pid, const std::string &token)
{
    const double now = nowSeconds();
    Statement st(m_db, "UPDATE jobs SET state = 'running', owner_pid = ?, owner_token = ?, attempts = attempts + 1, "
                       "started_at = COALESCE(started_at, ?), updated_at = ?, request = NULL, pause_reason = NULL, "
                       "error = NULL WHERE id = ? AND state = 'queued'");
    st.bind(1, pid).bind(2, token).bind(3, now).bind(4, now).bind(5, id).exec();
    return m_db.changes() == 1;
}

bool JobRepository::finishAttempt(int64_t id, JobState state, const std::optional<std::string> &error,
                                  const std::optional<std::string> &pauseReason)
{
    const double now = nowSeconds();
    Statement st(m_db, "UPDATE jobs SET state = ?, error = ?, pause_reason = ?, request = NULL, owner_pid = NULL, "
                       "owner_token = NULL, updated_at = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END, "
                       "progress = CASE WHEN ? = 'completed' THEN 1.0 ELSE progress END "
                       "WHERE id = ? AND state = 'running'");
    st.bind(1, jobStateName(state)).bind(2, error).bind(3, pauseReason).bind(4, now);
    st.bind(5, int64_t(isTerminal(state))).bind(6, now).bind(7, jobStateName(state)).bind(8, id).exec();
    return m_db.changes() == 1;
}

void JobRepository::setProgress(int64_t id, double progress, const std::string &message)
{
    Statement st(m_db, "UPDATE jobs SET progress = ?, message = ?, updated_at = ? WHERE id = ?");
    st.bind(1, progress).bind(2, message).bind(3, nowSeconds()).bind(4, id).exec();
}

void JobRepository::setRunId(int64_t id, int64_t runId)
{
    Statement st(m_db, "UPDATE jobs SET run_id = ? WHERE id = ?");
    st.bind(1, runId).bind(2, id).exec();
}

JobState JobRepository::cancel(int64_t id)
{
    Transaction tx(m_db);
    const double now = nowSeconds();
    Statement direct(m_db, "UPDATE jobs SET state = 'cancelled', finished_at = ?, updated_at = ? "
                           "WHERE id = ? AND state IN ('queued', 'paused', 'interrupted')");
    direct.bind(1, now).bind(2, now).bind(3, id).exec();
    Statement ask(m_db, "UPDATE jobs SET request = 'cancel', updated_at = ? WHERE id = ? AND state = 'running'");
    ask.bind(1, now).bind(2, id).exec();
    tx.commit();
    const std::optional<JobRecord> job = find(id);
    if (!job)
        fail("job " + std::to_string(id) + ": no such job");
    return job->state;
}

bool JobRepository::requestPause(int64_t id)
{
    Statement st(m_db, "UPDATE jobs SET request = 'pause', updated_at = ? WHERE id = ? AND state = 'running' "
                       "AND request IS NULL");
    st.bind(1, nowSeconds()).bind(2, id).exec();
    return m_db.changes() == 1;
}

bool JobRepository::resume(int64_t id)
{
    Statement st(m_db, "UPDATE jobs SET state = 'queued', pause_reason = NULL, error = NULL, finished_at = NULL, "
                       "updated_at = ? WHERE id = ? AND (state IN ('paused', 'interrupted') OR "
                       "(state = 'cancelled' AND kind = 'train'))");
    st.bind(1, nowSeconds()).bind(2, id).exec();
    return m_db.changes() == 1;
}

std::optional<std::string> JobRepository::pendingRequest(int64_t id)
{
    Statement st(m_db, "SELECT request FROM jobs WHERE id = ?");
    st.bind(1, id);
    return st.step() ? st.columnOptText(0) : std::nullopt;
}

std::vector<JobRecord> JobRepository::running()
{
    Statement st(m_db, std::string("SELECT ") + kColumns + " FROM jobs WHERE state = 'running' ORDER BY id");
    return readAll(st);
}

bool JobRepository::markInterrupted(const JobRecord &seen)
{
    Statement st(m_db, "UPDATE jobs SET state = 'interrupted', owner_pid = NULL, owner_token = NULL, request = NULL, "
                       "updated_at = ?, error = 'the process running it ended without finishing it' "
                       "WHERE id = ? AND state = 'running' AND owner_pid IS ? AND owner_token IS ?");
    st.bind(1, nowSeconds()).bind(2, seen.id).bind(3, seen.ownerPid).bind(4, seen.ownerToken).exec();
    return m_db.changes() == 1;
}

std::vector<JobRecord> JobRepository::pausedWithReason(const std::string &prefix)
{
    Statement st(m_db, std::string("SELECT ") + kColumns +
                           " FROM jobs WHERE state = 'paused' AND substr(pause_reason, 1, length(?1)) = ?1 ORDER BY id");
    st.bind(1, prefix);
    return readAll(st);
}

} // namespace lathe::store
