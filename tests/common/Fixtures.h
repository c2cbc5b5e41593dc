// Test support: where the shared fixtures live, and small helpers to read them.
// The fixtures are independent references (see ../shared/fixtures/README.md); tests
// never write to them.
#pragma once

#include <QtTest>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace lathe::test {

// The fixtures root: $LATHE_FIXTURES if set, else the path configured at build time.
inline std::string fixturesDir()
{
    if (const char *env = std::getenv("LATHE_FIXTURES"); env && *env)
        return env;
    return LATHE_FIXTURES_DIR;
}

inline std::string fixture(const std::string &relative)
{
    return fixturesDir() + "/" + relative;
}

inline std::string readText(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot open fixture " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline nlohmann::json readJson(const std::string &path)
{
    return nlohmann::json::parse(readText(path));
}

// A scratch directory unique to this test process, removed by QTemporaryDir.
inline QString tempPath(const QTemporaryDir &dir, const char *name)
{
    return dir.filePath(QString::fromUtf8(name));
}

} // namespace lathe::test
