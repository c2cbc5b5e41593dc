// Comparisons, ratings and the response cache (see PlaygroundRepository.h).
#include "store/PlaygroundRepository.h"

namespace lathe::store {

int64_t PlaygroundRepository::addComparison(const ComparisonRecord &c)
{
    Statement st(m_db, "INSERT INTO comparisons (prompt, model_a, model_b, response_a, response_b, params_json, "
                       "created_at) VALUES (?,?,?,?,?,?,?)");
    st.bind(1, c.prompt).bind(2, c.modelA).bind(3, c.modelB).bind(4, c.responseA).bind(5, c.responseB);
    st.bind(6, c.paramsJson).bind(7, c.createdAt > 0 ? c.createdAt : nowSeconds()).exec();
    return m_db.lastInsertId();
}

std::optional<ComparisonRecord> PlaygroundRepository::findComparison(int64_t id)
{
    Statement st(m_db, "SELECT id, prompt, model_a, model_b, response_a, response_b, params_json, created_at "
                       "FROM comparisons WHERE id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return ComparisonRecord{st.columnInt(0),  st.columnText(1), st.columnText(2), st.columnText(3),
                            st.columnText(4), st.columnText(5), st.columnText(6), st.columnDouble(7)};
}

int64_t PlaygroundRepository::addRating(const RatingRecord &r)
{
    if (r.winner != "a" && r.winner != "b" && r.winner != "tie" && r.winner != "both_bad")
        fail("rating winner: unknown value '" + r.winner + "' (expected a, b, tie or both_bad)");
    if (!findComparison(r.comparisonId))
        fail("rating: no comparison " + std::to_string(r.comparisonId));
    Statement st(m_db, "INSERT INTO ratings (comparison_id, winner, note, created_at) VALUES (?,?,?,?)");
    st.bind(1, r.comparisonId).bind(2, r.winner).bind(3, r.note);
    st.bind(4, r.createdAt > 0 ? r.createdAt : nowSeconds()).exec();
    return m_db.lastInsertId();
}

std::vector<RatingRecord> PlaygroundRepository::ratings(int64_t comparisonId)
{
    Statement st(m_db, "SELECT id, comparison_id, winner, note, created_at FROM ratings WHERE comparison_id = ? "
                       "ORDER BY id");
    st.bind(1, comparisonId);
    std::vector<RatingRecord> out;
    while (st.step())
        out.push_back({st.columnInt(0), st.columnInt(1), st.columnText(2), st.columnText(3), st.columnDouble(4)});
    return out;
}

std::vector<RatingTally> PlaygroundRepository::tally()
{
    // Each rating counts once for each side of its comparison.
    Statement st(m_db, R"sql(
SELECT model, SUM(win), SUM(loss), SUM(tie) FROM (
  SELECT c.model_a AS model, r.winner = 'a' AS win, r.winner = 'b' AS loss, r.winner = 'tie' AS tie
    FROM ratings r JOIN comparisons c ON c.id = r.comparison_id
  UNION ALL
  SELECT c.model_b, r.winner = 'b', r.winner = 'a', r.winner = 'tie'
    FROM ratings r JOIN comparisons c ON c.id = r.comparison_id
) GROUP BY model ORDER BY model)sql");
    std::vector<RatingTally> out;
    while (st.step())
        out.push_back({st.columnText(0), st.columnInt(1), st.columnInt(2), st.columnInt(3)});
    return out;
}

void PlaygroundRepository::cachePut(const CachedResponse &e)
{
    const double now = nowSeconds();
    Statement st(m_db, "INSERT INTO response_cache (key, model, response, tokens, created_at, last_used_at, hits) "
                       "VALUES (?,?,?,?,?,?,0) ON CONFLICT (key) DO UPDATE SET model = excluded.model, "
                       "response = excluded.response, tokens = excluded.tokens, last_used_at = excluded.last_used_at");
    st.bind(1, e.key).bind(2, e.model).bind(3, e.response).bind(4, e.tokens).bind(5, now).bind(6, now).exec();
}

std::optional<CachedResponse> PlaygroundRepository::cacheGet(const std::string &key)
{
    Statement touch(m_db, "UPDATE response_cache SET hits = hits + 1, last_used_at = ? WHERE key = ?");
    touch.bind(1, nowSeconds()).bind(2, key).exec();
    if (m_db.changes() == 0)
        return std::nullopt;
    Statement st(m_db, "SELECT key, model, response, tokens, hits FROM response_cache WHERE key = ?");
    st.bind(1, key);
    if (!st.step())
        return std::nullopt;
    return CachedResponse{st.columnText(0), st.columnText(1), st.columnText(2), st.columnInt(3), st.columnInt(4)};
}

int64_t PlaygroundRepository::cacheTrim(int64_t keep)
{
    Statement st(m_db, "DELETE FROM response_cache WHERE key NOT IN "
                       "(SELECT key FROM response_cache ORDER BY last_used_at DESC, key LIMIT ?)");
    st.bind(1, keep).exec();
    return m_db.changes();
}

} // namespace lathe::store
