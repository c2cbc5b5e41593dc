// CatalogRepository: the models and datasets Lathe knows about. A dataset is identified
// by its content hash, so re-importing the same bytes from another path is recognised
// and runs can say exactly which data they trained on.
#pragma once

#include "store/Sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe::store {

struct ModelRecord
{
    int64_t id = 0;
    std::string name, path, format, arch;
    std::optional<int64_t> parameters;
    std::optional<std::string> contentHash;
    double createdAt = 0;
};

struct DatasetRecord
{
    int64_t id = 0;
    std::string name, path, format;
    std::string contentHash; // hex digest of the file's bytes (the importer chooses the hash)
    std::optional<int64_t> records, tokens;
    double createdAt = 0;
};

class CatalogRepository
{
public:
    explicit CatalogRepository(Connection &connection) : m_db(connection) {}

    int64_t addModel(const ModelRecord &model); // returns the id
    std::optional<ModelRecord> findModel(int64_t id);
    std::vector<ModelRecord> models();

    int64_t addDataset(const DatasetRecord &dataset);
    std::optional<DatasetRecord> findDataset(int64_t id);
    // The first dataset imported with these bytes, if any.
    std::optional<DatasetRecord> findDatasetByHash(const std::string &contentHash);
    std::vector<DatasetRecord> datasets();

private:
    Connection &m_db;
};

} // namespace lathe::store
