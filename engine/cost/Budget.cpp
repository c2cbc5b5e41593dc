// Budget checks (see Budget.h).
#include "cost/Budget.h"

#include "cost/CostModel.h"
#include "core/Error.h"

#include <algorithm>

namespace lathe::cost {

const char *budgetScopeName(BudgetScope scope)
{
    switch (scope) {
    case BudgetScope::Run: return "run";
    case BudgetScope::Day: return "day";
    case BudgetScope::Month: return "month";
    }
    return "run";
}

BudgetScope parseBudgetScope(const std::string &name)
{
    if (name == "run")
        return BudgetScope::Run;
    if (name == "day")
        return BudgetScope::Day;
    if (name == "month")
        return BudgetScope::Month;
    fail("budget scope: unknown value '" + name + "' (expected run, day or month)");
}

BudgetCheck checkBudget(const Budget &budget, double spent, double nextStretch)
{
    BudgetCheck c;
    c.scope = budget.scope;
    c.spent = spent;
    c.projected = spent + std::max(0.0, nextStretch);
    c.warn = budget.warn;
    c.limit = budget.limit;
    const std::string scope = budgetScopeName(budget.scope);
    if (budget.limit && (spent >= *budget.limit || c.projected > *budget.limit)) {
        c.level = BudgetLevel::Exceeded;
        c.message = "budget: the " + scope + " limit of " + formatMoney(*budget.limit, budget.currency) +
                    (spent >= *budget.limit ? " is reached (spent " + formatMoney(spent, budget.currency) + ")"
                                            : " would be exceeded (spent " + formatMoney(spent, budget.currency) +
                                                  ", next stretch ~" +
                                                  formatMoney(c.projected - spent, budget.currency) + ")");
    } else if (budget.warn && spent >= *budget.warn) {
        c.level = BudgetLevel::Warn;
        c.message = "budget: the " + scope + " warning threshold of " + formatMoney(*budget.warn, budget.currency) +
                    " is reached (spent " + formatMoney(spent, budget.currency) + ")";
    }
    return c;
}

BudgetCheck worst(const std::vector<BudgetCheck> &checks)
{
    BudgetCheck out;
    for (const BudgetCheck &c : checks)
        if (int(c.level) > int(out.level))
            out = c;
    return out;
}

} // namespace lathe::cost
