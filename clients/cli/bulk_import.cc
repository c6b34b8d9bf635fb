// `attributionctl import events --bulk`: the file goes to BulkImportEvents in
// parts, parsed by the server.
#include <cstring>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/cli/csv.h"
#include "clients/cli/event_rows.h"
#include "clients/cli/importer.h"

namespace attribution::cli {
namespace {

// One request's worth of rows.
struct Part {
  v1::BulkImportEventsRequest request;
  // For a part made from JSONL: the file line of each data row (the server
  // names rows by number). Empty for CSV, whose lines the server names.
  std::vector<int64_t> row_lines;
};

// Sends parts on `in_flight` threads and sums their responses.
class Sender {
 public:
  Sender(client::AttributionClient& client, const BulkImportOptions& options)
      : client_(client), options_(options), start_(absl::Now()) {
    for (size_t i = 0; i < std::max<size_t>(1, options.in_flight); ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }

  // Queues a part; waits while `in_flight` parts are queued. False once a
  // request has failed (nothing more is sent).
  bool Send(Part part) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Sender* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
          return s->queue_.size() < s->options_.in_flight ||
                 !s->summary_.status.ok();
        },
        this));
    if (!summary_.status.ok()) return false;
    queue_.push_back(std::move(part));
    return true;
  }

  // A row the client itself could not read (JSONL).
  void Reject(int64_t line, absl::string_view reason) {
    absl::MutexLock lock(&mu_);
    ++summary_.rows;
    ++summary_.rejected;
    if (options_.log != nullptr) {
      *options_.log << "line " << line << ": " << reason << std::endl;
    }
  }

  ImportSummary Finish() {
    {
      absl::MutexLock lock(&mu_);
      closed_ = true;
    }
    for (std::thread& t : threads_) t.join();
    absl::MutexLock lock(&mu_);
    summary_.seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    return summary_;
  }

 private:
  void Work() {
    while (true) {
      Part part;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Sender* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
              return !s->queue_.empty() || s->closed_ ||
                     !s->summary_.status.ok();
            },
            this));
        if (queue_.empty() || !summary_.status.ok()) return;
        part = std::move(queue_.front());
        queue_.pop_front();
      }
      absl::StatusOr<v1::BulkImportEventsResponse> response =
          client_.BulkImportEvents(part.request);
      absl::MutexLock lock(&mu_);
      if (!response.ok()) {
        if (summary_.status.ok()) summary_.status = response.status();
        return;
      }
      Add(*response, part);
    }
  }

  void Add(const v1::BulkImportEventsResponse& r, const Part& part)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    summary_.rows += r.rows();
    summary_.stored += r.stored();
    summary_.duplicates += r.duplicates();
    summary_.conflicts += r.conflicts();
    summary_.rejected += r.rejected();
    for (const std::string& id : r.conflict_event_ids()) {
      if (summary_.conflict_event_ids.size() < 10) {
        summary_.conflict_event_ids.push_back(id);
      }
    }
    if (options_.log == nullptr) return;
    for (const v1::RejectedRow& row : r.rejected_rows()) {
      const int64_t line = part.row_lines.empty() ? row.line()
                           : row.row() >= 1 && static_cast<size_t>(row.row()) <=
                                                   part.row_lines.size()
                               ? part.row_lines[row.row() - 1]
                               : row.line();
      *options_.log << "line " << line << ": " << row.reason() << std::endl;
    }
    if (r.rejected() > r.rejected_rows_size()) {
      *options_.log << "(" << r.rejected() - r.rejected_rows_size()
                    << " more rejected rows in this part are not named)"
                    << std::endl;
    }
    if (absl::Now() - last_progress_ > absl::Seconds(2)) {
      last_progress_ = absl::Now();
      *options_.log << "progress: " << summary_.rows << " rows, "
                    << summary_.stored << " stored, " << summary_.duplicates
                    << " duplicates, " << summary_.rejected << " rejected"
                    << std::endl;
    }
  }

  client::AttributionClient& client_;
  const BulkImportOptions options_;
  const absl::Time start_;
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  std::deque<Part> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  ImportSummary summary_ ABSL_GUARDED_BY(mu_);
  absl::Time last_progress_ ABSL_GUARDED_BY(mu_) = absl::Now();
};

Part NewPart(const BulkImportOptions& options, absl::string_view header) {
  Part part;
  part.request.set_workspace(options.workspace);
  part.request.mutable_csv()->assign(header.data(), header.size());
  return part;
}

constexpr size_t kBlockBytes = 1 << 20;

// CSV: the header, then parts of whole records (a record ends at a line
// break outside quotes).
void SendCsv(std::istream& in, const BulkImportOptions& options,
             Sender& sender) {
  std::string buffer;  // Unsent text, from a record boundary on.
  size_t scanned = 0;
  bool quoted = false;
  int64_t newlines = 0;     // Line breaks in buffer[0, scanned).
  int64_t buffer_line = 1;  // The file line buffer starts on.
  std::string header;
  int64_t header_lines = 1;
  bool have_header = false;

  auto flush = [&](size_t end, int64_t lines) -> bool {
    if (!have_header) {
      header = buffer.substr(0, end);
      if (header.empty() || header.back() != '\n') header.push_back('\n');
      header_lines = lines > 0 ? lines : 1;
      have_header = true;
    } else if (end > 0) {
      Part part = NewPart(options, header);
      part.request.mutable_csv()->append(buffer, 0, end);
      // The request's header is its lines 1 to header_lines.
      part.request.set_line_offset(buffer_line - header_lines - 1);
      if (!sender.Send(std::move(part))) return false;
    }
    buffer.erase(0, end);
    scanned -= end;
    newlines -= lines;
    buffer_line += lines;
    return true;
  };

  while (true) {
    // Read straight into the buffer's tail.
    const size_t had = buffer.size();
    buffer.resize(had + kBlockBytes);
    in.read(buffer.data() + had, static_cast<std::streamsize>(kBlockBytes));
    const size_t got = static_cast<size_t>(in.gcount());
    buffer.resize(had + got);
    if (got == 0) break;
    while (scanned < buffer.size()) {
      const char* base = buffer.data();
      if (!quoted) {
        // Most lines hold no quote: jump from line break to line break.
        const char* nl = static_cast<const char*>(
            memchr(base + scanned, '\n', buffer.size() - scanned));
        const size_t end = nl == nullptr ? buffer.size() : nl - base;
        const char* q = static_cast<const char*>(
            memchr(base + scanned, '"', end - scanned));
        if (q != nullptr) {
          quoted = true;
          scanned = q - base + 1;
          continue;
        }
        if (nl == nullptr) {
          scanned = buffer.size();
          break;
        }
        scanned = end;
      } else {
        const char c = base[scanned];
        if (c == '"') {
          quoted = false;  // "" inside quotes toggles twice.
          ++scanned;
          continue;
        }
        if (c != '\n') {
          ++scanned;
          continue;
        }
      }
      // A line break at `scanned`.
      ++newlines;
      ++scanned;
      if (quoted) continue;
      // A record ends here. The header, or a full part, is sent, and the
      // buffer moves down.
      if (have_header && scanned < options.part_bytes) continue;
      if (!flush(scanned, newlines)) return;
    }
  }
  if (!have_header) {
    flush(buffer.size(), newlines);
    return;  // A header only (or an empty file): nothing to send.
  }
  if (buffer.find_first_not_of(" \t\r\n") != std::string::npos) {
    flush(buffer.size(), newlines);
  }
}

// JSONL: each line read here and sent as a CSV row of every column.
void SendJsonLines(std::istream& in, const BulkImportOptions& options,
                   Sender& sender) {
  std::string header;
  for (size_t c = 0; c < kColumnNames.size(); ++c) {
    absl::StrAppend(&header, c ? "," : "", kColumnNames[c]);
  }
  header.push_back('\n');
  Part part = NewPart(options, header);
  std::string line;
  int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    absl::StatusOr<RowValues> row = ParseJsonLine(line);
    if (!row.ok()) {
      sender.Reject(line_number, row.status().message());
      continue;
    }
    std::string* csv = part.request.mutable_csv();
    for (int c = 0; c < kColumnCount; ++c) {
      if (c > 0) csv->push_back(',');
      csv->append(CsvEscape((*row)[c]));
    }
    csv->push_back('\n');
    part.row_lines.push_back(line_number);
    if (csv->size() >= options.part_bytes) {
      if (!sender.Send(std::move(part))) return;
      part = NewPart(options, header);
    }
  }
  if (!part.row_lines.empty()) sender.Send(std::move(part));
}

}  // namespace

ImportSummary BulkImportEvents(client::AttributionClient& client,
                               std::istream& in,
                               const BulkImportOptions& options) {
  Sender sender(client, options);
  if (options.jsonl) {
    SendJsonLines(in, options, sender);
  } else {
    SendCsv(in, options, sender);
  }
  return sender.Finish();
}

}  // namespace attribution::cli
