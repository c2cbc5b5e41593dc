// Sqlite: thin RAII over the sqlite3 C API. A Connection owns one sqlite3*, a Statement
// one prepared sqlite3_stmt*, a Transaction one BEGIN..COMMIT that rolls back unless
// committed. Every failure becomes a SqliteError carrying the result code, the database
// path and the SQL, so callers can tell SQLITE_BUSY from a broken schema.
//
// Threading: a Connection is used by one thread at a time. Each thread that talks to the
// store opens its own Connection (WAL lets readers and one writer run side by side).
#pragma once

#include "core/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace lathe::store {

class SqliteError : public Error
{
public:
    SqliteError(const std::string &message, int code) : Error(message), m_code(code) {}
    int code() const { return m_code; } // the primary result code (SQLITE_BUSY, ...)
    bool isBusy() const;

private:
    int m_code;
};

class Connection;

// One prepared statement. Bind indexes start at 1 as in SQLite; column indexes at 0.
class Statement
{
public:
    Statement(Connection &connection, std::string_view sql);
    ~Statement();
    Statement(Statement &&other) noexcept;
    Statement &operator=(Statement &&) = delete;
    Statement(const Statement &) = delete;

    Statement &bind(int index, int64_t value);
    Statement &bind(int index, int value) { return bind(index, int64_t(value)); }
    Statement &bind(int index, double value);
    Statement &bind(int index, std::string_view text);
    Statement &bind(int index, const char *text) { return bind(index, std::string_view(text)); }
    Statement &bind(int index, const std::string &text) { return bind(index, std::string_view(text)); }
    Statement &bindNull(int index);
    template <typename T>
    Statement &bind(int index, const std::optional<T> &value)
    {
        return value ? bind(index, *value) : bindNull(index);
    }

    // Advances one row: true when a row is available, false when done.
    bool step();
    // Runs to completion (for statements without result rows).
    void exec();
    void reset(); // rewinds and clears bindings, ready to bind again

    bool isNull(int column) const;
    int64_t columnInt(int column) const;
    double columnDouble(int column) const;
    std::string columnText(int column) const; // "" for NULL
    std::optional<int64_t> columnOptInt(int column) const;
    std::optional<double> columnOptDouble(int column) const;
    std::optional<std::string> columnOptText(int column) const;

private:
    [[noreturn]] void raise(int rc, const char *what) const;

    Connection *m_connection;
    sqlite3_stmt *m_stmt = nullptr;
    std::string m_sql;
};

// One open database connection. Opening applies the pragmas every Lathe connection
// runs with: WAL journal, foreign keys on, a busy timeout and synchronous=FULL.
class Connection
{
public:
    enum class Mode { ReadWrite, ReadWriteCreate, ReadOnly };

    // Opens path without applying any pragma (used by the checks in StoreFile before a
    // file is known to be ours). Throws SqliteError naming the path.
    static std::unique_ptr<Connection> openRaw(const std::string &path, Mode mode);

    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // Runs one or more statements without results (DDL, pragmas). Throws SqliteError.
    void exec(std::string_view sql);
    // The first column of the first row of sql as an integer (pragmas, counts).
    int64_t queryInt(std::string_view sql);
    int64_t lastInsertId() const;
    int changes() const; // rows changed by the last statement
    void setBusyTimeout(int milliseconds);
    bool isReadOnly() const;

    const std::string &path() const { return m_path; }
    sqlite3 *handle() const { return m_db; }
    [[noreturn]] void raise(int rc, const std::string &what) const;

private:
    Connection(sqlite3 *db, std::string path) : m_db(db), m_path(std::move(path)) {}

    sqlite3 *m_db;
    std::string m_path;
};

// BEGIN IMMEDIATE (takes the write lock up front, so a busy wait happens at the start
// and never as a deadlock half-way through). Rolls back on destruction unless commit().
class Transaction
{
public:
    explicit Transaction(Connection &connection);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;
    void commit();

private:
    Connection &m_connection;
    bool m_done = false;
};

// Seconds since the Unix epoch as a double (the store's time unit).
double nowSeconds();

} // namespace lathe::store
