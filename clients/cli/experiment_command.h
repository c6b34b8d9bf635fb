// attributionctl experiment set|list|delete and import experiments: lift and
// holdout tests, which the incremental model calibrates on.
#ifndef ATTRIBUTION_CLIENTS_CLI_EXPERIMENT_COMMAND_H_
#define ATTRIBUTION_CLIENTS_CLI_EXPERIMENT_COMMAND_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/cli/output.h"
#include "clients/cpp/attribution_client.h"

namespace attribution::cli {

// The fields of one experiment as the CLI takes them (flags or a CSV row).
struct ExperimentFields {
  std::string workspace;
  std::string name;
  std::string channel;
  std::string goal;  // acquisition, repeat_purchase, retention
  std::string from;  // a date or an RFC 3339 time
  std::string to;
  // Either an estimate with its standard error...
  std::string incremental_conversions;
  std::string standard_error;
  // ...or the holdout counts.
  std::string treated_customers;
  std::string treated_conversions;
  std::string holdout_customers;
  std::string holdout_conversions;
};

// The experiment, or InvalidArgument naming the flag or column.
absl::StatusOr<v1::Experiment> BuildExperiment(const ExperimentFields& f);

// The CSV of `import experiments`: a header with the columns name, channel,
// goal, start, end, then incremental_conversions and standard_error, or
// treated_customers, treated_conversions, holdout_customers and
// holdout_conversions (blank where unused). Every row is recorded; a bad row
// is reported as "line N: ..." and the rest go on. Returns the number of
// rows rejected, or an error for a missing column.
absl::StatusOr<int> ImportExperiments(client::AttributionClient& client,
                                      const std::string& workspace,
                                      std::istream& in, std::ostream& log,
                                      int* recorded);

// The experiments as a table (name, channel, goal, start, end, estimate,
// standard_error, and the counts when given).
Table ExperimentsTable(const std::vector<v1::Experiment>& experiments);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_EXPERIMENT_COMMAND_H_
