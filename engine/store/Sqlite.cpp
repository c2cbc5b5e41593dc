// RAII wrappers over sqlite3 (see Sqlite.h).
#include "store/Sqlite.h"

#include <sqlite3.h>

#include <chrono>

namespace lathe::store {

namespace {

std::string shortSql(std::string_view sql)
{
    std::string s(sql.substr(0, 120));
    for (char &c : s)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    return sql.size() > 120 ? s + "..." : s;
}

} // namespace

bool SqliteError::isBusy() const
{
    return m_code == SQLITE_BUSY || m_code == SQLITE_LOCKED;
}

double nowSeconds()
{
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// ---- Connection ------------------------------------------------------------------

std::unique_ptr<Connection> Connection::openRaw(const std::string &path, Mode mode)
{
    int flags = SQLITE_OPEN_NOMUTEX; // one thread per connection (see the banner)
    switch (mode) {
    case Mode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::ReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case Mode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    }
    sqlite3 *db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        throw SqliteError(path + ": cannot open: " + msg, rc & 0xff);
    }
    sqlite3_extended_result_codes(db, 0);
    return std::unique_ptr<Connection>(new Connection(db, path));
}

Connection::~Connection()
{
    // Every Statement is owned by a scope shorter than its Connection, so close_v2
    // finds nothing pending; it defers anything left rather than failing.
    sqlite3_close_v2(m_db);
}

void Connection::raise(int rc, const std::string &what) const
{
    throw SqliteError(m_path + ": " + what + ": " + sqlite3_errmsg(m_db), rc & 0xff);
}

void Connection::exec(std::string_view sql)
{
    const std::string s(sql);
    char *err = nullptr;
    const int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw SqliteError(m_path + ": " + shortSql(sql) + ": " + msg, rc & 0xff);
    }
}

int64_t Connection::queryInt(std::string_view sql)
{
    Statement st(*this, sql);
    if (!st.step())
        throw SqliteError(m_path + ": " + shortSql(sql) + ": no result row", SQLITE_ERROR);
    return st.columnInt(0);
}

int64_t Connection::lastInsertId() const
{
    return sqlite3_last_insert_rowid(m_db);
}

int Connection::changes() const
{
    return sqlite3_changes(m_db);
}

void Connection::setBusyTimeout(int milliseconds)
{
    sqlite3_busy_timeout(m_db, milliseconds);
}

bool Connection::isReadOnly() const
{
    return sqlite3_db_readonly(m_db, "main") == 1;
}

// ---- Statement -------------------------------------------------------------------

Statement::Statement(Connection &connection, std::string_view sql) : m_connection(&connection), m_sql(sql)
{
    const int rc = sqlite3_prepare_v2(connection.handle(), m_sql.data(), int(m_sql.size()), &m_stmt, nullptr);
    if (rc != SQLITE_OK)
        raise(rc, "prepare");
}

Statement::~Statement()
{
    sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement &&other) noexcept
    : m_connection(other.m_connection), m_stmt(other.m_stmt), m_sql(std::move(other.m_sql))
{
    other.m_stmt = nullptr;
}

void Statement::raise(int rc, const char *what) const
{
    throw SqliteError(m_connection->path() + ": " + what + " '" + shortSql(m_sql) +
                          "': " + sqlite3_errmsg(m_connection->handle()),
                      rc & 0xff);
}

Statement &Statement::bind(int index, int64_t value)
{
    if (const int rc = sqlite3_bind_int64(m_stmt, index, value); rc != SQLITE_OK)
        raise(rc, "bind");
    return *this;
}

Statement &Statement::bind(int index, double value)
{
    if (const int rc = sqlite3_bind_double(m_stmt, index, value); rc != SQLITE_OK)
        raise(rc, "bind");
    return *this;
}

Statement &Statement::bind(int index, std::string_view text)
{
    if (const int rc = sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        rc != SQLITE_OK)
        raise(rc, "bind");
    return *this;
}

Statement &Statement::bindNull(int index)
{
    if (const int rc = sqlite3_bind_null(m_stmt, index); rc != SQLITE_OK)
        raise(rc, "bind");
    return *this;
}

bool Statement::step()
{
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    sqlite3_reset(m_stmt); // so the statement can be retried after a busy error
    raise(rc, "step");
}

void Statement::exec()
{
    while (step()) {
    }
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool Statement::isNull(int column) const
{
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

int64_t Statement::columnInt(int column) const
{
    return sqlite3_column_int64(m_stmt, column);
}

double Statement::columnDouble(int column) const
{
    return sqlite3_column_double(m_stmt, column);
}

std::string Statement::columnText(int column) const
{
    const auto *p = sqlite3_column_text(m_stmt, column);
    const int n = sqlite3_column_bytes(m_stmt, column);
    return p ? std::string(reinterpret_cast<const char *>(p), size_t(n)) : std::string();
}

std::optional<int64_t> Statement::columnOptInt(int column) const
{
    return isNull(column) ? std::nullopt : std::optional<int64_t>(columnInt(column));
}

std::optional<double> Statement::columnOptDouble(int column) const
{
    return isNull(column) ? std::nullopt : std::optional<double>(columnDouble(column));
}

std::optional<std::string> Statement::columnOptText(int column) const
{
    return isNull(column) ? std::nullopt : std::optional<std::string>(columnText(column));
}

// ---- Transaction -----------------------------------------------------------------

Transaction::Transaction(Connection &connection) : m_connection(connection)
{
    m_connection.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction()
{
    if (!m_done) {
        try {
            m_connection.exec("ROLLBACK");
        } catch (const Error &) {
            // Nothing to do: SQLite rolls back on its own when a statement failed hard.
        }
    }
}

void Transaction::commit()
{
    m_connection.exec("COMMIT");
    m_done = true;
}

} // namespace lathe::store
