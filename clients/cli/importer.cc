#include "clients/cli/importer.h"

#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/cli/csv.h"
#include "clients/cli/event_rows.h"

namespace attribution::cli {
namespace {

class CsvSource final : public RowSource {
 public:
  explicit CsvSource(std::istream& in) : reader_(in) {}

  // Reads the header row. InvalidArgument if a required column is missing.
  absl::Status ReadHeader() {
    std::vector<std::string> header;
    int64_t line;
    std::string error;
    if (!reader_.Next(&header, &line, &error) || !error.empty()) {
      return absl::InvalidArgumentError("header: the file has no header row");
    }
    if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) {
      header[0].erase(0, 3);  // UTF-8 byte order mark.
    }
    absl::StatusOr<std::array<int, kColumnCount>> positions = MapHeader(header);
    if (!positions.ok()) return positions.status();
    positions_ = *positions;
    return absl::OkStatus();
  }

  // RowSource
  bool Next(int64_t* line, absl::StatusOr<v1::Event>* event) override {
    std::string error;
    do {
      if (!reader_.Next(&fields_, line, &error)) return false;
    } while (error.empty() && fields_.size() == 1 && fields_[0].empty());
    if (!error.empty()) {
      *event = absl::InvalidArgumentError(error);
    } else {
      *event = RowToEvent(PickValues(fields_, positions_));
    }
    return true;
  }

 private:
  CsvReader reader_;
  std::array<int, kColumnCount> positions_;
  std::vector<std::string> fields_;
};

class JsonLinesSource final : public RowSource {
 public:
  explicit JsonLinesSource(std::istream& in) : in_(in) {}

  // RowSource
  bool Next(int64_t* line, absl::StatusOr<v1::Event>* event) override {
    do {
      if (!std::getline(in_, buf_)) return false;
      ++line_;
    } while (buf_.find_first_not_of(" \t\r") == std::string::npos);
    *line = line_;
    absl::StatusOr<RowValues> row = ParseJsonLine(buf_);
    if (!row.ok()) {
      *event = row.status();
    } else {
      *event = RowToEvent(*row);
    }
    return true;
  }

 private:
  std::istream& in_;
  int64_t line_ = 0;
  std::string buf_;
};

// A batch on the wire, with the file line of each of its events.
struct Batch {
  v1::IngestEventsRequest request;
  std::vector<int64_t> lines;
};

// The server names the field as "events[7].touchpoint.channel: ..."; the
// batch index means nothing to a user who has the line number.
std::string WithoutBatchIndex(absl::string_view message) {
  if (absl::ConsumePrefix(&message, "events[")) {
    const size_t close = message.find("].");
    if (close != absl::string_view::npos) message.remove_prefix(close + 2);
  }
  return std::string(message);
}

constexpr size_t kConflictIdsShown = 10;

class Importer {
 public:
  Importer(client::AttributionClient& client, const ImportOptions& options)
      : options_(options), stream_(client.StartIngest()) {}

  ImportSummary Run(RowSource& source) {
    const absl::Time start = absl::Now();
    std::thread acks([this] { ReadAcks(); });
    Batch batch;
    int64_t line = 0;
    absl::StatusOr<v1::Event> event;
    absl::Time last_progress = start;
    while (!Broken() && source.Next(&line, &event)) {
      ++rows_;
      if (!event.ok()) {
        Reject(line, event.status().message());
        continue;
      }
      *batch.request.add_events() = std::move(*event);
      batch.lines.push_back(line);
      if (batch.lines.size() >= options_.batch_size) {
        Send(std::move(batch));
        batch = Batch{};
      }
      if (options_.log != nullptr &&
          absl::Now() - last_progress > absl::Seconds(2)) {
        last_progress = absl::Now();
        absl::MutexLock lock(&mu_);
        *options_.log << "progress: " << rows_ << " rows read, " << stored_
                      << " stored, " << duplicates_ << " duplicates, "
                      << rejected_ << " rejected" << std::endl;
      }
    }
    if (!batch.lines.empty()) Send(std::move(batch));
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Importer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->in_flight_.empty() || self->stream_done_;
          },
          this));
    }
    stream_->CloseSend();
    acks.join();
    ImportSummary summary;
    summary.status = stream_->Finish();
    absl::MutexLock lock(&mu_);
    if (summary.status.ok() && !in_flight_.empty()) {
      summary.status = absl::UnavailableError("stream ended before every ack");
    }
    summary.rows = rows_;
    summary.stored = stored_;
    summary.duplicates = duplicates_;
    summary.conflicts = conflicts_;
    summary.conflict_event_ids = conflict_ids_;
    summary.rejected = rejected_;
    summary.batch_too_large = batch_too_large_;
    summary.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return summary;
  }

 private:
  bool Broken() {
    absl::MutexLock lock(&mu_);
    return stream_done_ || batch_too_large_;
  }

  void Reject(int64_t line, absl::string_view reason) {
    absl::MutexLock lock(&mu_);
    ++rejected_;
    if (options_.log != nullptr) {
      *options_.log << "line " << line << ": " << reason << std::endl;
    }
  }

  // Sends a batch once fewer than `window` are unacknowledged.
  void Send(Batch batch) {
    v1::IngestEventsRequest* request;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Importer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->in_flight_.size() < self->options_.window ||
                   self->stream_done_;
          },
          this));
      if (stream_done_ || batch_too_large_) return;
      request = RegisterLocked(std::move(batch));
    }
    // The slot stays put until its ack arrives, which cannot happen before
    // it is sent.
    stream_->Send(*request);
  }

  // Gives the batch a sequence number and counts it in flight.
  v1::IngestEventsRequest* RegisterLocked(Batch batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const uint64_t seq = next_sequence_++;
    batch.request.set_workspace(options_.workspace);
    batch.request.set_sequence(seq);
    Batch& slot = in_flight_[seq] = std::move(batch);
    return &slot.request;
  }

  void ReadAcks() {
    v1::IngestEventsResponse ack;
    while (stream_->Read(&ack)) {
      v1::IngestEventsRequest* retry = nullptr;
      {
        absl::MutexLock lock(&mu_);
        auto it = in_flight_.find(ack.sequence());
        if (it == in_flight_.end()) continue;
        Batch batch = std::move(it->second);
        in_flight_.erase(it);
        if (!ack.has_error()) {
          stored_ += ack.stored();
          duplicates_ += ack.duplicates();
          conflicts_ += ack.conflicts();
          for (const std::string& id : ack.conflict_event_ids()) {
            if (conflict_ids_.size() < kConflictIdsShown) {
              conflict_ids_.push_back(id);
            }
          }
          continue;
        }
        const int index = ack.error().event_index();
        const std::string reason = WithoutBatchIndex(ack.error().message());
        if (ack.error().code() ==
                static_cast<int>(absl::StatusCode::kResourceExhausted) &&
            absl::StrContains(reason, "batch limit")) {
          // Every batch is as large: stop rather than reject every row.
          if (!batch_too_large_ && options_.log != nullptr) {
            *options_.log << reason << std::endl;
          }
          batch_too_large_ = true;
          continue;
        }
        if (index < 0 || static_cast<size_t>(index) >= batch.lines.size()) {
          // Not about one event: every row of the batch is rejected.
          rejected_ += static_cast<int64_t>(batch.lines.size());
          if (options_.log != nullptr) {
            *options_.log << "lines " << batch.lines.front() << "-"
                          << batch.lines.back() << ": " << reason << std::endl;
          }
          continue;
        }
        ++rejected_;
        if (options_.log != nullptr) {
          *options_.log << "line " << batch.lines[index] << ": " << reason
                        << std::endl;
        }
        // Nothing of the batch was stored: send the rest again.
        auto* events = batch.request.mutable_events();
        events->erase(events->begin() + index);
        batch.lines.erase(batch.lines.begin() + index);
        if (batch.lines.empty()) continue;
        // Registered before the lock is released, so that the stream is
        // never seen idle (and closed) between the reject and the retry.
        retry = RegisterLocked(std::move(batch));
      }
      stream_->Send(*retry);
    }
    absl::MutexLock lock(&mu_);
    stream_done_ = true;
  }

  const ImportOptions options_;
  std::unique_ptr<client::IngestStream> stream_;
  int64_t rows_ = 0;  // Only the reading thread touches it.
  absl::Mutex mu_;
  // std::map: a batch stays at its address while it is being sent.
  std::map<uint64_t, Batch> in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  bool stream_done_ ABSL_GUARDED_BY(mu_) = false;
  int64_t stored_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t conflicts_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> conflict_ids_ ABSL_GUARDED_BY(mu_);
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  bool batch_too_large_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RowSource>> NewCsvSource(std::istream& in) {
  auto source = std::make_unique<CsvSource>(in);
  if (absl::Status s = source->ReadHeader(); !s.ok()) return s;
  return std::unique_ptr<RowSource>(std::move(source));
}

std::unique_ptr<RowSource> NewJsonLinesSource(std::istream& in) {
  return std::make_unique<JsonLinesSource>(in);
}

ImportSummary ImportEvents(client::AttributionClient& client, RowSource& source,
                           const ImportOptions& options) {
  Importer importer(client, options);
  return importer.Run(source);
}

}  // namespace attribution::cli
