// Budget: spending limits per run, per day and per month, each with an optional warning
// threshold and an optional hard limit. A check compares what is spent with the limits,
// looking one step ahead: a job "would exceed" a hard limit when what it has spent plus
// what its next stretch (up to its next checkpoint) is expected to cost passes it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lathe::cost {

enum class BudgetScope { Run, Day, Month };
enum class BudgetLevel { Ok, Warn, Exceeded };

struct Budget
{
    BudgetScope scope = BudgetScope::Run;
    std::optional<double> warn, limit;
    std::string currency = "USD";
};

struct BudgetCheck
{
    BudgetScope scope = BudgetScope::Run;
    BudgetLevel level = BudgetLevel::Ok;
    double spent = 0, projected = 0;
    std::optional<double> warn, limit;
    std::string message; // empty when Ok; says which limit and by how much
};

const char *budgetScopeName(BudgetScope scope); // "run", "day", "month"
BudgetScope parseBudgetScope(const std::string &name); // Error on anything else

// Exceeded when limit is set and spent + nextStretch > limit, or spent >= limit;
// Warn when warn is set and spent >= warn; else Ok.
BudgetCheck checkBudget(const Budget &budget, double spent, double nextStretch = 0);
// The most severe of several checks (the first of equal severity).
BudgetCheck worst(const std::vector<BudgetCheck> &checks);

} // namespace lathe::cost
