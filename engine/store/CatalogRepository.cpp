// Models and datasets (see CatalogRepository.h).
#include "store/CatalogRepository.h"

namespace lathe::store {

namespace {

const char *const kModelColumns = "id, name, path, format, arch, parameters, content_hash, created_at";
const char *const kDatasetColumns = "id, name, path, format, content_hash, records, tokens, created_at";

ModelRecord readModel(const Statement &st)
{
    return {st.columnInt(0),      st.columnText(1),    st.columnText(2),       st.columnText(3),
            st.columnText(4),     st.columnOptInt(5),  st.columnOptText(6),    st.columnDouble(7)};
}

DatasetRecord readDataset(const Statement &st)
{
    return {st.columnInt(0),    st.columnText(1),   st.columnText(2),  st.columnText(3),
            st.columnText(4),   st.columnOptInt(5), st.columnOptInt(6), st.columnDouble(7)};
}

} // namespace

int64_t CatalogRepository::addModel(const ModelRecord &m)
{
    Statement st(m_db, "INSERT INTO models (name, path, format, arch, parameters, content_hash, created_at) "
                       "VALUES (?,?,?,?,?,?,?)");
    st.bind(1, m.name).bind(2, m.path).bind(3, m.format).bind(4, m.arch).bind(5, m.parameters);
    st.bind(6, m.contentHash).bind(7, m.createdAt > 0 ? m.createdAt : nowSeconds()).exec();
    return m_db.lastInsertId();
}

std::optional<ModelRecord> CatalogRepository::findModel(int64_t id)
{
    Statement st(m_db, std::string("SELECT ") + kModelColumns + " FROM models WHERE id = ?");
    st.bind(1, id);
    return st.step() ? std::optional<ModelRecord>(readModel(st)) : std::nullopt;
}

std::vector<ModelRecord> CatalogRepository::models()
{
    Statement st(m_db, std::string("SELECT ") + kModelColumns + " FROM models ORDER BY id");
    std::vector<ModelRecord> out;
    while (st.step())
        out.push_back(readModel(st));
    return out;
}

int64_t CatalogRepository::addDataset(const DatasetRecord &d)
{
    if (d.contentHash.empty())
        fail("dataset '" + d.name + "': content_hash is empty");
    Statement st(m_db, "INSERT INTO datasets (name, path, format, content_hash, records, tokens, created_at) "
                       "VALUES (?,?,?,?,?,?,?)");
    st.bind(1, d.name).bind(2, d.path).bind(3, d.format).bind(4, d.contentHash).bind(5, d.records);
    st.bind(6, d.tokens).bind(7, d.createdAt > 0 ? d.createdAt : nowSeconds()).exec();
    return m_db.lastInsertId();
}

std::optional<DatasetRecord> CatalogRepository::findDataset(int64_t id)
{
    Statement st(m_db, std::string("SELECT ") + kDatasetColumns + " FROM datasets WHERE id = ?");
    st.bind(1, id);
    return st.step() ? std::optional<DatasetRecord>(readDataset(st)) : std::nullopt;
}

std::optional<DatasetRecord> CatalogRepository::findDatasetByHash(const std::string &contentHash)
{
    Statement st(m_db, std::string("SELECT ") + kDatasetColumns +
                           " FROM datasets WHERE content_hash = ? ORDER BY id LIMIT 1");
    st.bind(1, contentHash);
    return st.step() ? std::optional<DatasetRecord>(readDataset(st)) : std::nullopt;
}

std::vector<DatasetRecord> CatalogRepository::datasets()
{
    Statement st(m_db, std::string("SELECT ") + kDatasetColumns + " FROM datasets ORDER BY id");
    std::vector<DatasetRecord> out;
    while (st.step())
        out.push_back(readDataset(st));
    return out;
}

} // namespace lathe::store
