// Test support for tests/app: runs the built lathe-cli in its own process, as a user
// would, and collects what it did (exit code, crash, stdout, stderr). One runner for
// every CLI test, so that timeouts, stdin and crash detection behave the same in each.
#pragma once

#include "Fixtures.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <nlohmann/json.hpp>

#include <csignal> // kill(), SIGINT (POSIX)
#include <fstream>
#include <optional>
#include <sys/types.h>
#include <utility>

namespace lathe::test {

// What one lathe-cli run did.
struct CliResult
{
    int code = -1;        // the exit code; meaningless when crashed
    bool crashed = false; // ended by a signal, or killed by the runner at its timeout
    QByteArray outBytes;  // stdout byte for byte
    QString out;          // stdout decoded as UTF-8
    QString err;          // stderr decoded as UTF-8
};

struct CliOptions
{
    // Written to stdin, which is then closed, so a command reading it sees the end
    // instead of waiting for the test.
    QByteArray input;
    // The child's environment; unset, it inherits this process's (qputenv included).
    std::optional<QProcessEnvironment> environment;
    // Past this the process is killed and the result reports a crash.
    int timeoutMs = 120000;
};

// The lathe-cli of this build tree (the tests/app targets depend on it).
inline QString cliBinary()
{
    return QStringLiteral(LATHE_BINARY_DIR "/lathe-cli");
}

// This process's environment with LATHE_HOME set to home, so that nothing a command
// records lands in the user's own store.
inline QProcessEnvironment environmentWithHome(const QString &home)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("LATHE_HOME"), home);
    return env;
}

// Options for the usual cases (designated initialisers would trip
// -Wmissing-field-initializers).
inline CliOptions withInput(QByteArray input)
{
    CliOptions o;
    o.input = std::move(input);
    return o;
}

// LATHE_HOME at home, the rest of the environment inherited.
inline CliOptions withHome(const QString &home)
{
    CliOptions o;
    o.environment = environmentWithHome(home);
    return o;
}

// A fixture's path as a command-line argument.
inline QString fixtureArg(const char *relative)
{
    return QString::fromStdString(fixture(relative));
}

// Writes j (a run spec, say) as dir/name for a command to read; returns the path.
inline QString writeSpec(const QTemporaryDir &dir, const char *name, const nlohmann::json &j)
{
    const QString path = dir.filePath(QString::fromUtf8(name));
    std::ofstream(path.toStdString()) << j.dump(2);
    return path;
}

namespace detail {

inline void startCli(QProcess &p, const QStringList &args, const CliOptions &options)
{
    if (options.environment)
        p.setProcessEnvironment(*options.environment);
    p.start(cliBinary(), args);
    if (p.waitForStarted()) {
        p.write(options.input);
        p.closeWriteChannel();
    }
}

// Waits for p to end (killing it after timeoutMs); stdoutSoFar is what the caller has
// already read from it.
inline CliResult finishCli(QProcess &p, QByteArray stdoutSoFar, int timeoutMs)
{
    CliResult r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.crashed = true;
    }
    r.crashed = r.crashed || p.exitStatus() != QProcess::NormalExit;
    r.code = p.exitCode();
    r.outBytes = std::move(stdoutSoFar);
    r.outBytes += p.readAllStandardOutput();
    r.out = QString::fromUtf8(r.outBytes);
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace detail

// Runs lathe-cli with args to the end. A binary that does not start, or does not end
// within options.timeoutMs, comes back as crashed.
inline CliResult runCli(const QStringList &args, const CliOptions &options = {})
{
    QProcess p;
    detail::startCli(p, args, options);
    return detail::finishCli(p, {}, options.timeoutMs);
}

// Runs lathe-cli with args and sends it SIGINT, as Ctrl-C would, once its stdout
// contains trigger; then waits for it to end. If the trigger has not appeared within
// options.timeoutMs (or the process ends first) no signal is sent. The process gets
// options.timeoutMs again to end after that.
inline CliResult runCliInterruptedOn(const QStringList &args, const QByteArray &trigger,
                                     const CliOptions &options = {})
{
    QProcess p;
    detail::startCli(p, args, options);
    QByteArray out;
    const QDeadlineTimer deadline(options.timeoutMs);
    while (p.state() != QProcess::NotRunning && p.waitForReadyRead(int(deadline.remainingTime()))) {
        out += p.readAllStandardOutput();
        if (out.contains(trigger)) {
            ::kill(pid_t(p.processId()), SIGINT);
            break;
        }
    }
    return detail::finishCli(p, std::move(out), options.timeoutMs);
}

} // namespace lathe::test
