#include "clients/cli/experiment_command.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "clients/cli/attribution_args.h"
#include "clients/cli/csv.h"

namespace attribution::cli {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<v1::Experiment> BuildExperiment(const ExperimentFields& f) {
  v1::Experiment e;
  e.set_workspace(f.workspace);
  e.set_name(f.name);
  e.set_channel(f.channel);
  v1::Goal goal;
  if (!v1::Goal_Parse(absl::StrCat("GOAL_", absl::AsciiStrToUpper(f.goal)),
                      &goal) ||
      goal == v1::GOAL_UNSPECIFIED) {
    return Bad("goal", absl::StrCat("\"", f.goal,
                                    "\" is not acquisition, repeat_purchase "
                                    "or retention"));
  }
  e.set_goal(goal);
  if (f.from.empty()) return Bad("from", "is required (a date, 2026-07-01)");
  if (f.to.empty()) return Bad("to", "is required (a date, exclusive)");
  auto start = ParseWhen("from", f.from);
  if (!start.ok()) return start.status();
  auto end = ParseWhen("to", f.to);
  if (!end.ok()) return end.status();
  *e.mutable_start() = *start;
  *e.mutable_end() = *end;
  const bool estimate =
      !f.incremental_conversions.empty() || !f.standard_error.empty();
  const bool counts =
      !f.treated_customers.empty() || !f.treated_conversions.empty() ||
      !f.holdout_customers.empty() || !f.holdout_conversions.empty();
  if (estimate == counts) {
    return Bad("estimate",
               "give either --estimate and --standard_error, or the four "
               "holdout counts");
  }
  if (estimate) {
    double v, se;
    if (!absl::SimpleAtod(f.incremental_conversions, &v)) {
      return Bad("estimate", "is not a number");
    }
    if (!absl::SimpleAtod(f.standard_error, &se)) {
      return Bad("standard_error", "is not a number");
    }
    e.mutable_estimate()->set_incremental_conversions(v);
    e.mutable_estimate()->set_standard_error(se);
    return e;
  }
  const std::pair<const char*, const std::string*> fields[] = {
      {"treated_customers", &f.treated_customers},
      {"treated_conversions", &f.treated_conversions},
      {"holdout_customers", &f.holdout_customers},
      {"holdout_conversions", &f.holdout_conversions}};
  int64_t n[4];
  for (int i = 0; i < 4; ++i) {
    if (!absl::SimpleAtoi(*fields[i].second, &n[i])) {
      return Bad(fields[i].first, "is not a whole number");
    }
  }
  v1::HoldoutCounts* c = e.mutable_counts();
  c->set_treated_customers(n[0]);
  c->set_treated_conversions(n[1]);
  c->set_holdout_customers(n[2]);
  c->set_holdout_conversions(n[3]);
  return e;
}

absl::StatusOr<int> ImportExperiments(client::AttributionClient& client,
                                      const std::string& workspace,
                                      std::istream& in, std::ostream& log,
                                      int* recorded) {
  CsvReader reader(in);
  std::vector<std::string> header, row;
  int64_t line = 0;
  std::string error;
  if (!reader.Next(&header, &line, &error)) {
    return absl::InvalidArgumentError("header: the file is empty");
  }
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) {
    col[std::string(absl::StripAsciiWhitespace(header[i]))] = i;
  }
  for (const char* required : {"name", "channel", "goal", "start", "end"}) {
    if (!col.contains(required)) {
      return absl::InvalidArgumentError(
          absl::StrCat("header: missing required column ", required));
    }
  }
  int rejected = 0;
  *recorded = 0;
  while (reader.Next(&row, &line, &error)) {
    auto get = [&](const char* name) -> std::string {
      auto it = col.find(name);
      return it == col.end() || it->second >= row.size()
                 ? std::string()
                 : std::string(absl::StripAsciiWhitespace(row[it->second]));
    };
    ExperimentFields f;
    f.workspace = workspace;
    f.name = get("name");
    f.channel = get("channel");
    f.goal = get("goal");
    f.from = get("start");
    f.to = get("end");
    f.incremental_conversions = get("incremental_conversions");
    f.standard_error = get("standard_error");
    f.treated_customers = get("treated_customers");
    f.treated_conversions = get("treated_conversions");
    f.holdout_customers = get("holdout_customers");
    f.holdout_conversions = get("holdout_conversions");
    absl::StatusOr<v1::Experiment> e = BuildExperiment(f);
    absl::Status s = e.status();
    if (s.ok()) s = client.RecordExperiment(*e).status();
    if (!s.ok()) {
      ++rejected;
      log << "line " << line << ": rejected: " << s.message() << "\n";
      continue;
    }
    ++*recorded;
  }
  return rejected;
}

Table ExperimentsTable(const std::vector<v1::Experiment>& experiments) {
  Table t;
  t.columns = {"name",
               "channel",
               "goal",
               "start",
               "end",
               "incremental_conversions",
               "standard_error",
               "treated_customers",
               "treated_conversions",
               "holdout_customers",
               "holdout_conversions"};
  for (const v1::Experiment& e : experiments) {
    std::vector<Cell> r = {
        {e.name()},
        {e.channel()},
        {absl::AsciiStrToLower(v1::Goal_Name(e.goal()).substr(5))},
        {Rfc3339(e.start())},
        {Rfc3339(e.end())}};
    if (e.has_estimate()) {
      r.push_back(
          {absl::StrFormat("%.17g", e.estimate().incremental_conversions()),
           true});
      r.push_back(
          {absl::StrFormat("%.17g", e.estimate().standard_error()), true});
      for (int i = 0; i < 4; ++i) r.push_back({""});
    } else {
      r.push_back({""});
      r.push_back({""});
      const auto& c = e.counts();
      for (int64_t v : {c.treated_customers(), c.treated_conversions(),
                        c.holdout_customers(), c.holdout_conversions()}) {
        r.push_back({absl::StrCat(v), true});
      }
    }
    t.rows.push_back(std::move(r));
  }
  return t;
}

}  // namespace attribution::cli
